// Waiting for a commit in library mode (no daemon), for SqliteStore's
// waitForCommit. This process's own commits wake its waiters at once. Other
// processes' commits wake them through the wait list (wait-list.ts): a store
// with a lease waiter has an entry there, in the order of the lease's line,
// and every commit touches the entry that has waited longest, so a release
// wakes the waiter it handed the lease to (the first in line), from the
// releasing process, right after the commit.
//
// Polling stays as the fallback, for a wake that never comes (a committer
// killed between its commit and the touch, a baton without wakes sharing the
// file, a watch refused, a platform that does not report the touch): the
// first in line, once touched, polls every 50 to 100 ms; every other lease
// waiter as before, every 2 to 8 ms; event-log followers every 10 to 30 ms.
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

/** How long the first in line sleeps at most without a wake, once wakes reach it. */
export const SLOW_POLL_MS = { min: 50, max: 100 };
/**
 * Touches in a row that were not for our waiter (it waited on after each)
 * before it leaves the list for the rest of its wait and polls as before.
 * The first in line is touched by every commit: with waiters for many keys
 * most are not for it, and each costs it a read and the committer a listing.
 */
const VAIN_TOUCHES = 3;

export class CommitSignal {
  /** The database file; undefined in memory, where no other process commits. */
  readonly #dbPath: string | undefined;
  readonly #entry: WaitListEntry | undefined;
  #closed = false;
  #generation = 0;
  readonly #wakes = new Set<() => void>();
  /** Waits in progress that are lease waiters (`first`): while there are any, we are on the list. */
  #firstWaits = 0;
  #leaving: NodeJS.Immediate | undefined;
  /**
   * When we last committed with no lease waiter of ours waiting (that commit
   * may have put one in line: monotonicUs(), read under the write lock), if
   * no wait has begun since; else undefined.
   */
  #queuedAt: number | undefined;
  /** When our entry on the list, or the last one, says we got in line. */
  #since: number | undefined;
  /** The current wait of our lease waiter is on the list (else it polls as before). */
  #listed = false;
  /** Our entry has been touched since we joined: wakes reach us. */
  #touched = false;
  /** A touch came since the last waitForCommit of a lease waiter began; the last one ended with one. */
  #touchedNow = false;
  #endedOnTouch = false;
  /** Touches in a row our waiter waited on after (they were not for it). */
  #vainTouches = 0;
  /**
   * Whether waking has paid for our waiters lately: +1 for a wait a touch
   * ended, -1 for one it did not (clamped to -5..3). While negative a wait
   * joins the list only now and then (every 2nd, 4th, ... 32nd), to see
   * whether it pays again: with waiters for many keys the first in line is
   * rarely the one a commit served, and joining and touching cost more than
   * they save (on 2 cores the processes woken in vain take the CPU).
   */
  #wakesPay = 0;
  #skippedJoins = 0;

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
    if (this.#firstWaits === 0) this.#waitOver();
  }

  /** A waitForCommit begins: a lease waiter (`first`) may put us on the list, so commits wake us. */
  begin(first: boolean): void {
    if (!first) return;
    this.#firstWaits++;
    if (this.#leaving !== undefined) {
      clearImmediate(this.#leaving);
      this.#leaving = undefined;
    }
    const entry = this.#entry;
    if (entry === undefined || this.#closed || commitWakes.mode === 'off') return;
    const touchedNow = this.#touchedNow;
    this.#touchedNow = false;
    const queuedAt = this.#queuedAt;
    this.#queuedAt = undefined;
    if (queuedAt !== undefined) {
      // A new wait: between two waits of one acquire there are only reads, so
      // a commit of ours in between got our waiter in line anew, at the back.
      // The entry is named by that commit's time, not by when we got here (a
      // process can be preempted in between, by the very waiter it woke).
      this.#waitOver();
      this.#since = queuedAt;
      this.#vainTouches = 0;
      this.#listed = this.#shouldJoin();
    } else if (this.#listed && touchedNow && ++this.#vainTouches >= VAIN_TOUCHES) {
      this.#settle(false);
      this.#listed = false; // not for us, again: polling as before, for the rest of this wait
      entry.leave();
    }
  }

  /**
   * The waitForCommit found no commit yet and is about to sleep: a wait on
   * the list joins it now (a wait that ends at its first read, as most short
   * ones do, never does). True if it just joined: the caller reads the
   * counter again before it sleeps, so a commit made before our entry was
   * there is not missed.
   */
  sleeping(): boolean {
    const entry = this.#entry;
    if (!this.#listed || entry === undefined || entry.name !== undefined || this.#closed) return false;
    // An entry left while our waiter looked (its read was held up past the turn) comes back with its old time.
    const since = (this.#since ??= monotonicUs());
    const mode = commitWakes.mode;
    this.#touched = mode === 'slow' || mode === 'lose';
    const joined = entry.join(
      since,
      () => {
        if (mode === 'lose') return;
        this.#touched = true;
        this.#touchedNow = true;
        this.#wake();
      },
      () => {
        this.#touched = false; // removed under us (judged gone): poll as before until we join again
      },
    );
    if (!joined) this.#listed = false; // polling only, for this wait
    return joined;
  }

  /**
   * A waitForCommit ended. A lease waiter usually waits again within this
   * turn (after one read), so the entry goes only if none has by its end.
   */
  end(first: boolean): void {
    if (!first) return;
    this.#endedOnTouch = this.#touchedNow;
    if (--this.#firstWaits > 0 || this.#leaving !== undefined) return;
    this.#leaving = setImmediate(() => {
      this.#leaving = undefined;
      if (this.#firstWaits === 0) this.#waitOver();
    });
  }

  /** A count of wakes: take it before reading the change counter, and pass it to wait(). */
  mark(): number {
    return this.#generation;
  }

  /** How long a waiter sleeps at most before it reads the change counter anyway. */
  pollMs(first: boolean): number {
    // Slowly only while first: commits wake the first, and only it.
    if (this.#dbPath === undefined || (first && this.#touched && this.#entry?.first() === true)) {
      return SLOW_POLL_MS.min + Math.random() * (SLOW_POLL_MS.max - SLOW_POLL_MS.min);
    }
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

  /** Our waiter is through (it has its lease, or gave up): off the list, and did the wake pay? */
  #waitOver(): void {
    if (this.#entry?.name === undefined) return;
    this.#settle(this.#endedOnTouch);
    this.#entry.leave();
  }

  #settle(paid: boolean): void {
    this.#wakesPay = paid ? Math.min(this.#wakesPay + 1, 3) : Math.max(this.#wakesPay - 1, -5);
  }

  /** Whether a new wait joins the list (see #wakesPay). */
  #shouldJoin(): boolean {
    if (this.#wakesPay >= 0 || commitWakes.mode !== 'on') return true;
    if (++this.#skippedJoins < 2 ** -this.#wakesPay) return false;
    this.#skippedJoins = 0;
    return true;
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
