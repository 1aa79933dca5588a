// What every engine method stands on: the store, read and write transactions
// that refuse once closed, idempotent mutations, the sweeper, the heartbeats
// of sessions this process registered, and open subscriptions; and the
// daemon's own node records, which are not part of the Coordinator. The
// Coordinator's methods are in engine.ts, one short method each.
import type { Mutation, Subscription, SweepResult } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { Store, StoreTx } from '../stores/store.ts';
import type { Retention } from './events.ts';
import { Heartbeats } from './heartbeats.ts';
import { actFor, checkBy } from './actor.ts';
import { idempotent } from './idempotency.ts';
import * as nodes from './nodes.ts';
import { engineSettings } from './settings.ts';
import { Sweeper } from './sweeper.ts';
import type { RetryPolicy } from './task-outcomes.ts';
import type { Transactions } from './waiting.ts';

export interface EngineOptions {
  /** How often this process sweeps lapsed leases, claims and sessions (shared with other processes). Default 500 ms. */
  sweepIntervalMs?: number;
  retention?: Partial<Retention>;
  retry?: Partial<RetryPolicy>;
}

export class EngineCore {
  readonly store: Store;
  protected readonly retry: RetryPolicy;
  protected readonly sweeper: Sweeper;
  /** The store as the waits use it. */
  protected readonly db: Transactions;
  protected readonly heartbeats = new Heartbeats();
  protected readonly subscriptions = new Set<Subscription>();
  #closed = false;

  constructor(store: Store, options: EngineOptions = {}) {
    this.store = store;
    const settings = engineSettings(options);
    this.retry = settings.retry;
    this.db = { store, write: (fn) => this.writeTx(fn), read: (fn) => this.readTx(fn) };
    this.sweeper = new Sweeper(store, settings.sweepIntervalMs, settings.retention);
  }

  protected writeTx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.store.write(fn);
  }

  protected readTx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.store.read(fn);
  }

  /** One idempotent write: the same key and request returns the first result. */
  protected mutate<T>(operation: string, request: unknown, options: Mutation | undefined, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const by = checkBy(options?.by);
    return this.writeTx((tx) => {
      actFor(tx, by);
      return idempotent(tx, options?.idempotencyKey, operation, request, () => fn(tx));
    });
  }

  protected checkOpen(): void {
    if (this.#closed) throw new BatonError('STORE_ERROR', 'this coordinator is closed');
  }

  /** Sweeps now if no process has within the interval: on open, and before claims, so short-lived processes see lapsed claims too. */
  async sweepIfDue(): Promise<void> {
    return this.sweeper.ifDue();
  }

  /** Expires lapsed leases, claims and sessions now (it also runs on its own). */
  async sweep(): Promise<SweepResult> {
    return this.writeTx((tx) => this.sweeper.sweep(tx));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.sweeper.stop();
    this.heartbeats.stopAll();
    for (const s of [...this.subscriptions]) s.close();
    await this.store.close();
  }

  // --- nodes (daemons; not part of the Coordinator) --------------------------

  /** Registers this daemon as a node whose sessions end once it has not heartbeat for ttlMs. */
  async registerNode(name: string, ttlMs: number): Promise<string> {
    return this.writeTx((tx) => nodes.registerNode(tx, name, ttlMs));
  }

  async heartbeatNode(id: string): Promise<boolean> {
    return this.writeTx((tx) => nodes.heartbeatNode(tx, id));
  }

  async endNode(id: string): Promise<void> {
    return this.writeTx((tx) => nodes.endNode(tx, id));
  }

  /** Binds a live session to a node (its client attached to that node's daemon). */
  async bindSession(sessionId: string, nodeId: string): Promise<boolean> {
    return this.writeTx((tx) => nodes.bindSession(tx, sessionId, nodeId));
  }

  async listNodes(): Promise<nodes.NodeInfo[]> {
    return this.readTx((tx) => nodes.listNodes(tx));
  }
}
