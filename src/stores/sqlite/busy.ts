// SQLITE_BUSY, retried here with short jittered waits and never surfaced.
// busy_timeout is 0: SQLite's own busy handler sleeps ever longer (up to
// 100 ms at a time) and lets a lucky writer starve the others.

/** Contention lasting this long (ms) fails: LOCK_TIMEOUT for a transaction, the error itself while opening. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** SQLITE_BUSY or SQLITE_LOCKED, with or without an extended code. */
export function isBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: number }).errcode;
  return typeof errcode === 'number' && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Jittered backoff. A write transaction holds the lock for tens of
 * microseconds (one lease) to a few milliseconds (a claim of hundreds of
 * tasks), so the first three retries wait up to half a millisecond each,
 * synchronously (as SQLite's own busy handler would; a timer cannot wait less
 * than 1 ms); later ones wait up to 1, 2, 4, 8 ms on a timer, so a long wait
 * does not hold up the event loop. Short waits at random keep a writer from
 * starving behind luckier ones. Twelve synchronous retries before the first
 * timer cost 8 processes claiming and completing 500 tasks at a time a tenth
 * of their throughput: each sub-millisecond wait is a context switch, and
 * on 2 cores those came out of the lock holder's CPU.
 */
export async function backoff(attempt: number): Promise<void> {
  if (attempt < 3) {
    Atomics.wait(pause, 0, 0, Math.random() * 0.5);
    return;
  }
  await sleep(Math.random() * Math.min(8, 2 ** (attempt - 3)));
}

/**
 * The wait of a writer whose hand is raised (see WriterTurn): the others are
 * stepping aside, so it tries again as soon as the holder's transaction may be
 * over, up to half a millisecond, then lets the event loop run once.
 */
export async function pauseBriefly(): Promise<void> {
  Atomics.wait(pause, 0, 0, Math.random() * 0.5);
  await sleep(0);
}

/** Runs fn (statements outside the store's transactions: opening, pragmas) until it is not busy, or the deadline. */
export async function retryBusy(fn: () => void): Promise<void> {
  const deadline = performance.now() + DEFAULT_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      fn();
      return;
    } catch (error) {
      if (!isBusy(error) || performance.now() > deadline) throw error;
      await backoff(attempt);
    }
  }
}
