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
import { sweepLeases } from './leases.ts';
import { sweepSessions } from './sessions.ts';
import { sweepClaims } from './task-outcomes.ts';

/** A claim looks whether a sweep is due at most this often (ms) in one process. */
const DUE_CHECK_MS = 50;

async function sweepIn(tx: StoreTx, retention: Retention): Promise<SweepResult> {
  const sessionsEnded = await sweepSessions(tx);
  const leasesExpired = await sweepLeases(tx);
  const claimsExpired = await sweepClaims(tx);
  await sweepReservations(tx);
  await pruneIdempotency(tx);
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
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  sweep(tx: StoreTx): Promise<SweepResult> {
    return sweepIn(tx, this.#retention);
  }

  #schedule(): void {
    // Jittered so that many processes do not sweep in step; whoever is due first does it for all.
    const delay = this.#intervalMs * (0.5 + Math.random());
    this.#timer = setTimeout(() => {
      this.#sweepIfDue()
        .catch(() => {
          // a failed background sweep is retried at the next tick
        })
        .finally(() => {
          if (!this.#stopped) this.#schedule();
        });
    }, delay);
    this.#timer.unref();
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

  async #sweepIfDue(): Promise<void> {
    if (this.#stopped) return;
    await this.#store.write(async (tx) => {
      await tx.lock('sweep');
      const next = await tx.get<{ value: string }>('metaGet', { key: 'next_sweep_at' });
      if (next !== undefined && Number(next.value) > tx.now) return;
      tx.defer('metaSet', { key: 'next_sweep_at', value: String(tx.now + this.#intervalMs) });
      await sweepIn(tx, this.#retention);
    });
  }
}
