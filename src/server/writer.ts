// The daemon's single writer: every write the engine makes is queued here and
// committed in groups, one transaction per batch (one failure does not undo the
// others: see SqliteStore.writeBatch). Reads go to a second
// connection and never wait behind the queue. Waiters are woken by the commit
// itself, not by polling.
//
// A store that cannot commit in groups (PostgreSQL: many daemons share the
// database, and one transaction holding every lock of a batch would make them
// wait on each other) is passed through: each write is its own transaction,
// as many at once as its pool allows, and waits are the store's own (it wakes
// them on its commits and on other nodes'). The queue limit still holds.
import { BatonError } from '../errors.ts';
import type { Settled, Store, StoreTx, TxOptions } from '../stores/store.ts';

export interface WriterOptions {
  /** Operations admitted to the queue at most; the server answers 429 past it. Default 4096. */
  maxQueue?: number;
  /** Operations per transaction at most. Default 512. */
  maxBatch?: number;
}

/** Commits made by other processes (a CLI run with --no-daemon) are noticed this often. */
const EXTERNAL_POLL_MS = 50;

interface Pending {
  fn: (tx: StoreTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  /** When it was queued (performance.now()): how long the oldest has waited says whether the writer moves. */
  queuedAt: number;
}

export interface WriterStats {
  batches: number;
  operations: number;
  largestBatch: number;
  queued: number;
}

function wakeAll(wakers: Set<() => void>): void {
  const all = [...wakers];
  wakers.clear();
  for (const wake of all) wake();
}

export class GroupWriter implements Store {
  readonly kind: string;
  readonly maxQueue: number;
  readonly maxBatch: number;
  #writes: Store;
  #reads: Store;
  #queue: Pending[] = [];
  #running = false;
  #scheduled = false;
  #wakers = new Set<() => void>();
  #firstWakers = new Set<() => void>();
  #drained = new Set<() => void>();
  #stats = { batches: 0, operations: 0, largestBatch: 0 };
  #commits = 0;
  /** Passed-through writes running now (a store without writeBatch). */
  #inFlight = 0;
  #external = 0;
  #externalAt = -Infinity;
  /** Told the size of each committed batch (the daemon's metrics). */
  onBatch: ((size: number) => void) | undefined;

  /** `reads`: a second connection to the same database (may be `writes` itself, for a pooled store). */
  constructor(writes: Store, reads: Store, options: WriterOptions = {}) {
    this.kind = writes.kind;
    this.#writes = writes;
    this.#reads = reads;
    this.maxQueue = options.maxQueue ?? 4096;
    this.maxBatch = options.maxBatch ?? 512;
  }

  /** Operations waiting for the next batch. */
  get queued(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** True when a new request should be turned away (429). */
  get full(): boolean {
    return this.queued >= this.maxQueue;
  }

  /** How long the oldest write still queued has waited, ms (0 when none): the readiness check's measure of a stuck writer. */
  oldestWaitMs(): number {
    const oldest = this.#queue[0];
    return oldest === undefined ? 0 : performance.now() - oldest.queuedAt;
  }

  stats(): WriterStats {
    return { ...this.#stats, queued: this.queued };
  }

  write<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    if (this.#writes.writeBatch === undefined) return this.#passThrough(fn, options);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject, signal: options.signal, queuedAt: performance.now() });
      this.#schedule();
    });
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>, options?: TxOptions): Promise<T> {
    return this.#reads.read(fn, options);
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    // One turn of the event loop lets requests that arrived together share a commit.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch).filter((p) => {
          if (!p.signal?.aborted) return true;
          p.reject(new BatonError('ABORTED', 'aborted before it was written'));
          return false;
        });
        if (batch.length === 0) continue;
        let results: Array<Settled<unknown>>;
        try {
          results = await this.#writes.writeBatch!(batch.map((p) => p.fn));
        } catch (error) {
          for (const p of batch) p.reject(error);
          continue;
        }
        this.#stats.batches++;
        this.#stats.operations += batch.length;
        this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
        this.#commits++;
        this.onBatch?.(batch.length);
        // Lease waiters first: the answer that hands a lease over goes out
        // before the releaser's, whose process would otherwise take the CPU
        // from the daemon first. Their looks are reads with no I/O, done within
        // this turn. Other waiters (event streams) look after the answers.
        if (this.#firstWakers.size > 0) {
          wakeAll(this.#firstWakers);
          await new Promise((resolve) => setImmediate(resolve));
        }
        results.forEach((result, i) => (result.ok ? batch[i]!.resolve(result.value) : batch[i]!.reject(result.error)));
        wakeAll(this.#wakers);
      }
    } finally {
      this.#running = false;
      for (const done of this.#drained) done();
      this.#drained.clear();
    }
  }

  async #passThrough<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions): Promise<T> {
    this.#inFlight++;
    try {
      const value = await this.#writes.write(fn, options);
      this.#stats.batches++;
      this.#stats.operations++;
      this.#stats.largestBatch = 1;
      this.onBatch?.(1);
      return value;
    } finally {
      if (--this.#inFlight === 0 && this.#queue.length === 0 && !this.#running) {
        for (const done of this.#drained) done();
        this.#drained.clear();
      }
    }
  }

  /** Resolves once everything queued so far is committed. */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.add(resolve));
    while (this.#queue.length > 0 || this.#running || this.#scheduled) {
      await new Promise<void>((resolve) => {
        if (!this.#running && !this.#scheduled) {
          this.#schedule();
        }
        this.#drained.add(resolve);
      });
    }
  }

  /**
   * Our own commits, counted here, plus what the database says of other
   * processes' commits (a --no-daemon CLI): read only every EXTERNAL_POLL_MS,
   * since asking costs a statement per call.
   */
  async changeCounter(): Promise<number> {
    if (this.#writes.writeBatch === undefined) return this.#writes.changeCounter();
    if (performance.now() - this.#externalAt >= EXTERNAL_POLL_MS) {
      this.#external = await this.#writes.changeCounter();
      this.#externalAt = performance.now();
    }
    return this.#commits + this.#external; // both only grow, so the sum moves when either does
  }

  async waitForCommit(seen: number, maxMs: number, signal?: AbortSignal, first = false): Promise<void> {
    if (this.#writes.writeBatch === undefined) {
      if (this.#writes.waitForCommit !== undefined) return this.#writes.waitForCommit(seen, maxMs, signal, first);
    }
    const until = performance.now() + maxMs;
    for (;;) {
      if ((await this.changeCounter()) !== seen) return;
      const left = until - performance.now();
      if (left <= 0) return;
      await this.#nextCommit(Math.min(left, EXTERNAL_POLL_MS), signal, first ? this.#firstWakers : this.#wakers);
    }
  }

  #nextCommit(maxMs: number, signal: AbortSignal | undefined, wakers: Set<() => void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new BatonError('ABORTED', 'aborted while waiting'));
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        reject(new BatonError('ABORTED', 'aborted while waiting'));
      };
      const timer = setTimeout(done, maxMs);
      timer.unref();
      wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  now(): Promise<number> {
    return this.#writes.now();
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#reads.close();
    if (this.#writes !== this.#reads) await this.#writes.close();
  }
}
