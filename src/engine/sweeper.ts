// Sweeping needs no cron: every open engine runs a sweep timer, and
// whichever process is due first sweeps for all, coordinated through the
// database (next_sweep_at). A sweep ends lapsed and dead sessions, expires
// leases and claims, drops expired reservations and idempotency records,
// and prunes events.
import type { SweepResult } from '../coordinator.ts';
import type { Store, StoreTx } from '../stores/store.ts';
import { sweepReservations } from './budgets.ts';
import { pruneEvents, type Retention } from './events.ts';
import { pruneIdempotency } from './idempotency.ts';
import { sweepKv } from './kv.ts';
import { sweepLeases } from './leases.ts';
import { pruneMessages } from './messages-inbox.ts';
import { sweepReleaseRequests } from './release-requests.ts';
import { sweepSessions } from './sessions.ts';
import { sweepClaims } from './task-outcomes.ts';

/** A claim looks whether a sweep is due at most this often (ms) in one process. */
const DUE_CHECK_MS = 50;

async function sweepIn(tx: StoreTx, retention: Retention): Promise<SweepResult> {
  // Before anything that emits (event_head) or locks a lease: answering release requests below sends
  // messages, and 'messages' comes before those everywhere (messages.ts, deliver).
  await tx.lock('messages');
  const sessionsEnded = await sweepSessions(tx);
  const leasesExpired = await sweepLeases(tx);
  const claimsExpired = await sweepClaims(tx);
  // After the leases: a hold that ended in this sweep answers its release requests in it.
  await sweepReleaseRequests(tx);
  // After the leases too: a key bound to a lease that ended in this sweep is deleted in it.
  await sweepKv(tx);
  await sweepReservations(tx);
  await pruneIdempotency(tx);
  // Acknowledged messages go with the events of their time; nothing unacknowledged does.
  await pruneMessages(tx, retention.maxAgeMs);
  const eventsPruned = await pruneEvents(tx, retention);
  return { leasesExpired, claimsExpired, sessionsEnded, eventsPruned };
}

export class Sweeper {
  readonly #store: Store;
  readonly #intervalMs: number;
  readonly #retention: Retention;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastDueCheck = -Infinity;

  constructor(store: Store, intervalMs: number, retention: Retention) {
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#retention = retention;
    this.#schedule(this.#intervalMs * Math.random());
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  sweep(tx: StoreTx): Promise<SweepResult> {
    return sweepIn(tx, this.#retention);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#sweepIfDue()
        // A failed background sweep is retried an interval later.
        .catch(() => this.#intervalMs)
        .then((untilDueMs) => {
          if (!this.#stopped) this.#schedule(untilDueMs + this.#jitter());
        });
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * Up to a fifth of the interval, so that many processes do not sweep in
   * step; whoever is due first sweeps for all. Waking when the next sweep is
   * due (not a whole jittered interval later) bounds how late one runs: a
   * dead holder's leases go within 1.2 intervals, not 2.5.
   */
  #jitter(): number {
    return this.#intervalMs * 0.2 * Math.random();
  }

  /** Sweeps now if no process has within the interval: on open, and before claims, so short-lived processes see lapsed claims too. */
  async ifDue(): Promise<void> {
    this.#lastDueCheck = performance.now();
    // The mark and the store's clock in one read (on PostgreSQL the clock is the database's: a second read would be a round trip).
    const { next, now } = await this.#store.read(async (tx) => ({ next: await tx.get<{ value: string }>('metaGet', { key: 'next_sweep_at' }), now: tx.now }));
    if (next === undefined || Number(next.value) <= now) await this.#sweepIfDue();
  }

  /** As ifDue, unless this process looked within DUE_CHECK_MS (claims call it). */
  async maybe(): Promise<void> {
    if (performance.now() - this.#lastDueCheck >= DUE_CHECK_MS) await this.ifDue();
  }

  /** Sweeps if due; answers how long (ms) until the next sweep is due. */
  async #sweepIfDue(): Promise<number> {
    if (this.#stopped) return this.#intervalMs;
    return this.#store.write(async (tx) => {
      await tx.lock('sweep');
      const next = await tx.get<{ value: string }>('metaGet', { key: 'next_sweep_at' });
      if (next !== undefined && Number(next.value) > tx.now) return Math.min(Number(next.value) - tx.now, this.#intervalMs);
      tx.defer('metaSet', { key: 'next_sweep_at', value: String(tx.now + this.#intervalMs) });
      await sweepIn(tx, this.#retention);
      return this.#intervalMs;
    });
  }
}
