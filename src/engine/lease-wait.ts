// Waiting for a lease: the loop around leases.attempt (see docs/engine.md,
// Leases). Each try is one write transaction that collects a lease already
// ours (an idempotent replay, or a handoff to our queue entry), takes it if
// nothing stands in the way, or else gets us in line (or refreshes our
// place). Between tries we wait for a commit elsewhere and look with a read:
// a release may have handed us the lease, and we write again only when we
// could take it, or when our entry is due a refresh.
import type { AcquireOptions, Lease } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { recall, remember, requestHash } from './idempotency.ts';
import { attempt, couldTake, enqueueWaiter, grantedTo, removeWaiter, touchWaiter, WAITER_TOUCH_MS, type Attempt, type LeaseRequest } from './leases.ts';
import { liveSession } from './sessions.ts';
import { waitForChange, type Transactions } from './waiting.ts';

/** A waiter re-checks at least this often even if nothing changed (a holder's TTL may lapse). */
const MAX_QUIET_WAIT_MS = 250;

/**
 * Takes the lease for a checked request, waiting in line for up to
 * `timeoutMs` (LOCK_TIMEOUT after it; with 0, LOCKED at once). `options`
 * gives the signal (ABORTED) and the idempotency key.
 */
export async function waitForLease(db: Transactions, request: LeaseRequest, timeoutMs: number, options: AcquireOptions): Promise<Lease> {
  const wait = new LeaseWait(db, request, timeoutMs, options);
  try {
    return await wait.run();
  } finally {
    await wait.leave();
  }
}

class LeaseWait {
  readonly #db: Transactions;
  readonly #request: LeaseRequest;
  readonly #timeoutMs: number;
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #idempotencyKey: string | undefined;
  /** Our entry in the queue; null before we queue, and again once the lease is ours (its grant removed the entry). */
  #waiterId: number | null = null;
  /** When our entry was last refreshed (an entry not shown for WAITER_STALE_MS is dropped). */
  #lastTouch = performance.now();
  /** The store's change counter as of our last look: a commit past it wakes us. */
  #counter = 0;
  /** One closure for every try of this acquire. */
  readonly #tryIn = (tx: StoreTx): Promise<Attempt> => this.#try(tx);

  constructor(db: Transactions, request: LeaseRequest, timeoutMs: number, options: AcquireOptions) {
    this.#db = db;
    this.#request = request;
    this.#timeoutMs = timeoutMs;
    this.#deadline = performance.now() + timeoutMs;
    this.#signal = options.signal;
    this.#idempotencyKey = options.idempotencyKey;
  }

  async run(): Promise<Lease> {
    for (;;) {
      this.#signal?.throwIfAborted();
      this.#counter = await this.#db.store.changeCounter();
      const outcome = await this.#db.write(this.#tryIn);
      if (outcome.granted) {
        this.#waiterId = null; // the granting transaction removed it
        return outcome.lease;
      }
      const key = this.#request.key;
      if (this.#timeoutMs === 0) throw new BatonError('LOCKED', `${JSON.stringify(key)} is ${outcome.blockedBy}`, { details: { key } });
      const handed = await this.#waitForTurn(outcome.blockedBy);
      if (handed !== undefined) return handed;
    }
  }

  /** One write: the lease if it is ours or free for us, else our place in line. */
  async #try(tx: StoreTx): Promise<Attempt> {
    const request = this.#request;
    const seen = await recall<Lease>(tx, this.#idempotencyKey, 'acquire', request);
    if (seen.hit) return { granted: true, lease: seen.value };
    if (this.#waiterId !== null) {
      const handed = await grantedTo(tx, this.#waiterId);
      if (handed !== undefined) return { granted: true, lease: handed };
    }
    if (request.sessionId !== null) await liveSession(tx, request.sessionId);
    const result = await attempt(tx, request, this.#waiterId);
    if (result.granted) {
      await remember(tx, this.#idempotencyKey, 'acquire', request, result.lease);
      return result;
    }
    if (this.#timeoutMs === 0) return result;
    // Not queued yet, or our entry is gone (handed a lease that ended before we saw it): get in line.
    if (this.#waiterId === null || !(await touchWaiter(tx, this.#waiterId))) {
      const key = this.#idempotencyKey;
      this.#waiterId = await enqueueWaiter(tx, request, key === undefined ? undefined : { key, hash: requestHash('acquire', request) });
    }
    this.#lastTouch = performance.now();
    return result;
  }

  /**
   * Waits for a commit elsewhere (or a lapse of time) and looks with a read,
   * until a release handed us the lease (returned), or we could take it, or
   * our entry is due a refresh (undefined: try again).
   */
  async #waitForTurn(blockedBy: string): Promise<Lease | undefined> {
    for (;;) {
      const left = this.#deadline - performance.now();
      if (left <= 0) {
        const { key } = this.#request;
        throw new BatonError('LOCK_TIMEOUT', `timed out after ${this.#timeoutMs} ms waiting for ${JSON.stringify(key)}: ${blockedBy}`, {
          details: { key, timeoutMs: this.#timeoutMs },
        });
      }
      await waitForChange(this.#db.store, this.#counter, Math.min(left, MAX_QUIET_WAIT_MS), this.#signal, true);
      if (performance.now() - this.#lastTouch > WAITER_TOUCH_MS) return undefined;
      // Seen before the look, so a commit right after it still wakes the next wait.
      this.#counter = await this.#db.store.changeCounter();
      const look = await this.#look();
      if (typeof look === 'object') {
        this.#waiterId = null;
        return look;
      }
      if (look) return undefined;
    }
  }

  /** A read: the lease a release handed us, else whether an attempt could take it now. */
  #look(): Promise<Lease | boolean> {
    const id = this.#waiterId;
    const request = this.#request;
    return this.#db.read(async (tx) => (id === null ? undefined : await grantedTo(tx, id)) ?? couldTake(tx, request, id));
  }

  /** On the way out, however it went: an entry still in line goes, and a lease handed to it meanwhile passes to the next in line. */
  async leave(): Promise<void> {
    const id = this.#waiterId;
    const key = this.#idempotencyKey;
    const idempotency = key === undefined ? undefined : { key, hash: requestHash('acquire', this.#request) };
    if (id !== null) await this.#db.store.write((tx) => removeWaiter(tx, id, this.#request.key, idempotency)).catch(() => undefined);
  }
}
