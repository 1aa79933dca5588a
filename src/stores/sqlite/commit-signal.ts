// Waiting for a commit in library mode (no daemon), for SqliteStore's
// waitForCommit. This process's own commits wake its waiters at once. Other
// processes' commits wake them through the wait list (wait-list.ts): a store
// with a lease waiter has an entry there, and every commit touches the
// entry that has waited longest, so a release wakes the waiter it most
// likely handed the lease to, from the releasing process, right after the
// commit.
//
// Polling stays as the fallback, for a wake that never comes (a committer
// killed between its commit and the touch, a baton without wakes sharing the
// file, a watch refused, a platform that does not report the touch): a lease
// waiter whose entry has been touched knows wakes reach it and polls every
// 50 to 100 ms; one not touched yet (not first in line, or wakes do not work
// here) polls as before, every 2 to 8 ms; event-log followers every 10 to
// 30 ms, as before.
import { BatonError } from '../../errors.ts';
import { monotonicUs, wakeFirst, WaitListEntry } from './wait-list.ts';

export type CommitWakeMode = 'on' | 'off' | 'slow' | 'lose';

/**
 * 'on' (default); 'off' (environment BATON_SQLITE_WAKES=off): no wait list,
 * every waiter polls as before there were wakes. For tests also 'slow': a
 * lease waiter polls slowly from the start, so only a wake finds a commit
 * fast; and 'lose': slowly, and every wake from the list is dropped, so only
 * the fallback poll carries a waiter.
 */
export const commitWakes: { mode: CommitWakeMode } = { mode: process.env.BATON_SQLITE_WAKES === 'off' ? 'off' : 'on' };

/** How long a lease waiter sleeps at most without a wake, once wakes reach it. */
export const SLOW_POLL_MS = { min: 50, max: 100 };

export class CommitSignal {
  /** The database file; undefined in memory, where no other process commits. */
  readonly #dbPath: string | undefined;
  readonly #entry: WaitListEntry | undefined;
  /** Our entry has been touched since we joined: wakes reach us, so we poll slowly. */
  #touched = false;
  /** Waits in progress that are lease waiters (`first`): while there are any, we are on the list. */
  #firstWaits = 0;
  #leaving: NodeJS.Immediate | undefined;
  /**
   * When we last committed with no lease waiter of ours waiting (that commit
   * may have put one in line: monotonicUs(), read under the write lock), if
   * we have not joined the list since; else undefined.
   */
  #queuedAt: number | undefined;
  /** When our entry on the list, or the last one, says we began to wait. */
  #since: number | undefined;
  #generation = 0;
  readonly #wakes = new Set<() => void>();
  #closed = false;

  constructor(dbPath: string) {
    this.#dbPath = dbPath === ':memory:' ? undefined : dbPath;
    if (this.#dbPath !== undefined) this.#entry = new WaitListEntry(this.#dbPath);
  }

  /**
   * After our own commit, made at `at` (monotonicUs() read before COMMIT,
   * under the write lock, so the times of commits are in their order): wake
   * our waiters, and the store that has waited longest.
   */
  committed(at: number): void {
    // A commit while our waiter waits (a sweep, a heartbeat) does not move it in its line.
    if (this.#firstWaits === 0) this.#queuedAt = at;
    this.#wake();
    if (this.#dbPath !== undefined && commitWakes.mode !== 'off') wakeFirst(this.#dbPath, this.#entry?.name);
  }

  /**
   * A write transaction is about to begin. With no lease waiter of ours
   * waiting, ours has its lease (or gave up) and this is its release or
   * other work: off the list now, or the wake of the commit would be ours.
   */
  writing(): void {
    if (this.#firstWaits > 0 || this.#entry?.name === undefined) return;
    if (this.#leaving !== undefined) clearImmediate(this.#leaving);
    this.#leaving = undefined;
    this.#entry.leave();
  }

  /** A waitForCommit begins: a lease waiter (`first`) puts us on the list, so commits wake us. */
  begin(first: boolean): void {
    if (!first) return;
    this.#firstWaits++;
    if (this.#leaving !== undefined) {
      clearImmediate(this.#leaving);
      this.#leaving = undefined;
    }
    const entry = this.#entry;
    if (entry === undefined || this.#closed || commitWakes.mode === 'off') return;
    // The list should be in the order of the lease's line, which is the
    // order of the commits that put waiters in it. Between two waits of one
    // acquire there are only reads; a commit of ours in between (we got in
    // line anew) sends our entry to the back, named by that commit's time,
    // not by when we got here (a process can be preempted in between, by the
    // very waiter it woke). An entry left while we were not waiting for a
    // moment (our read was held up) comes back with its old time.
    const queuedAt = this.#queuedAt;
    this.#queuedAt = undefined;
    if (queuedAt !== undefined) {
      entry.leave();
      this.#since = queuedAt;
    }
    if (entry.name !== undefined) return;
    const since = (this.#since ??= monotonicUs());
    const mode = commitWakes.mode;
    this.#touched = mode === 'slow' || mode === 'lose';
    entry.join(
      since,
      () => {
        if (mode === 'lose') return;
        this.#touched = true;
        this.#wake();
      },
      () => {
        this.#touched = false; // removed under us (judged gone): poll as before until we join again
      },
    );
  }

  /**
   * A waitForCommit ended. A lease waiter usually waits again within this
   * turn (after one read), so the entry goes only if none has by its end.
   */
  end(first: boolean): void {
    if (!first || --this.#firstWaits > 0 || this.#leaving !== undefined) return;
    this.#leaving = setImmediate(() => {
      this.#leaving = undefined;
      if (this.#firstWaits === 0) this.#entry?.leave();
    });
  }

  /** A count of wakes: take it before reading the change counter, and pass it to wait(). */
  mark(): number {
    return this.#generation;
  }

  /** How long a waiter sleeps at most before it reads the change counter anyway. */
  pollMs(first: boolean): number {
    if (this.#dbPath === undefined || (first && this.#touched)) return SLOW_POLL_MS.min + Math.random() * (SLOW_POLL_MS.max - SLOW_POLL_MS.min);
    return first ? 2 + Math.random() * 6 : 10 + Math.random() * 20;
  }

  /**
   * Resolves on a wake after `mark`, or after `maxMs`; rejects with ABORTED
   * on abort. `keepAlive`: the timer holds the process open (an acquire is
   * awaited); else it does not (an event subscription must not).
   */
  wait(mark: number, maxMs: number, signal: AbortSignal | undefined, keepAlive: boolean): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (this.#generation !== mark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const end = (): void => {
        clearTimeout(timer);
        this.#wakes.delete(wake);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = (): void => {
        end();
        resolve();
      };
      const onAbort = (): void => {
        end();
        reject(aborted(signal!));
      };
      const timer = setTimeout(wake, Math.max(0, maxMs));
      if (!keepAlive) timer.unref();
      this.#wakes.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The store is closing: off the list. Waits go on to their time, as polls of a closed store did. */
  close(): void {
    this.#closed = true;
    if (this.#leaving !== undefined) clearImmediate(this.#leaving);
    this.#leaving = undefined;
    this.#entry?.leave(true);
  }

  #wake(): void {
    this.#generation++;
    for (const wake of [...this.#wakes]) wake();
  }
}

function aborted(signal: AbortSignal): BatonError {
  const reason: unknown = signal.reason;
  return new BatonError('ABORTED', `aborted: ${String(reason instanceof Error ? reason.message : (reason ?? 'aborted'))}`, { cause: reason });
}
