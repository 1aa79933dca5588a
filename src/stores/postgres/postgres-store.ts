// The PostgreSQL store: many processes on many machines over one database.
// Each write is one READ COMMITTED transaction on a pooled connection; what
// makes a read-then-write safe across nodes is a lock (StoreTx.lock, or the
// row lock of a statement's write form: queries.ts), never the isolation
// level. Serialization failures, deadlocks and lock timeouts roll back and
// run the transaction again with jitter. A connection lost while COMMIT was
// in flight is an unknown outcome: it is reported (UNAVAILABLE, outcome
// unknown), never retried blindly; an idempotency key resolves it.
//
// Waiters are woken by this process's own commits at once, by other nodes'
// through the listener (LISTEN/NOTIFY), and by polling while the listener is
// down.
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BatonError } from '../../errors.ts';
import type { Store, StoreTx, TxOptions } from '../store.ts';
import { describeTarget, loadDriver, openPool } from './connection.ts';
import { isConnectionLost, isRetryable, storeError } from './errors.ts';
import { channelFor, Listener } from './listener.ts';
import { migrate, type MigrationResult } from './migrate.ts';
import { Notifier } from './notifier.ts';
import { PgTx } from './pg-tx.ts';
import { SCHEMA } from './schema.ts';
import { NOW_STATEMENT } from './statements.ts';

export interface PostgresStoreOptions {
  /**
   * Connections this process keeps at most (default 4), plus one for the
   * listener. A transaction holds a connection only while it runs (about a
   * millisecond), so a few serve a busy daemon; PostgreSQL spends a process
   * and some memory per connection, and max_connections (default 100) is
   * shared by every node: daemons x (poolSize + 1) must fit under it.
   */
  poolSize?: number;
  /**
   * The schema its tables are in (default `baton`). A daemon keeps each project
   * but its home one in a schema of its own (src/server/projects.ts).
   */
  schema?: string;
  /** Waiters poll this often while the listener is down. Default 250 ms. */
  pollMs?: number;
  /** Waiters look this often even when the listener is up (a NOTIFY lost to a crash). Default 2000 ms. */
  backstopMs?: number;
  /** The listener's connection is checked this often. Default 5000 ms. */
  heartbeatMs?: number;
  /**
   * No LISTEN connection: waiters on this process learn of other nodes'
   * commits only by polling (every pollMs). For a database reached through a
   * transaction-mode pooler, where LISTEN hears nothing. Default false.
   */
  pollOnly?: boolean;
}

/** How long contention (lock waits that time out, serialization failures) is retried before LOCK_TIMEOUT. */
const DEFAULT_DEADLINE_MS = 30_000;
/** A lock waited for longer than this fails the statement (55P03), and the transaction runs again: no waits in a circle for long. */
const LOCK_TIMEOUT_MS = 5_000;
/**
 * A lost connection (the server restarting, a failover) is retried this long
 * before the caller hears UNAVAILABLE: a restart takes about a second, and a
 * transaction not yet committing left nothing behind to run twice.
 */
const RECONNECT_MS = 5_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = (): void => undefined;

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const poolSize = options.poolSize ?? 4;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new BatonError('INVALID_ARGUMENT', `poolSize must be a whole number from 1 to 1000, not ${JSON.stringify(poolSize)}`);
  }
  const target = describeTarget(url);
  const pg = await loadDriver();
  const schema = options.schema ?? SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new BatonError('INVALID_ARGUMENT', `schema must be a lowercase SQL identifier of at most 63 characters, got ${JSON.stringify(schema)}`);
  const pool = openPool(pg, url, poolSize, schema);
  try {
    const client = await pool.connect();
    client.on('error', ignore); // a connection cut while held fails its query (see #attempt), never the process
    try {
      await migrate(client, target, schema);
    } finally {
      client.off('error', ignore);
      client.release();
    }
    // The whole pool, made now: see openPool.
    const warm = await Promise.all(Array.from({ length: poolSize }, () => pool.connect()));
    for (const c of warm) c.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw storeError(error, target);
  }
  return new PostgresStore(pool, url, target, options);
}

/** Applies the migrations this baton knows to the database at `url` (`baton migrate`). */
export async function migrateDatabase(url: string): Promise<MigrationResult & { target: string }> {
  const target = describeTarget(url);
  const pg = await loadDriver();
  const pool = openPool(pg, url, 1);
  try {
    const client = await pool.connect();
    client.on('error', ignore);
    try {
      return { ...(await migrate(client, target)), target };
    } finally {
      client.off('error', ignore);
      client.release();
    }
  } catch (error) {
    throw storeError(error, target);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** user@host:port/database, for messages and status (never the password). */
  readonly target: string;
  readonly #pool: Pool;
  readonly #listener: Listener;
  readonly #notifier: Notifier;
  /** StoreTx.memo: the engine's caches of this store. */
  readonly #memo = new Map<string, unknown>();
  readonly #pollMs: number;
  readonly #backstopMs: number;
  readonly #pollOnly: boolean;
  #counter = 0;
  #wakers = new Set<() => void>();
  #closed = false;
  /** Transactions and the statements they sent, for the benchmark's round-trip counts. */
  readonly stats = { writes: 0, reads: 0, statements: 0, retries: 0 };

  constructor(pool: Pool, url: string, target: string, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.target = target;
    this.#pollMs = options.pollMs ?? 250;
    this.#backstopMs = options.backstopMs ?? 2_000;
    this.#pollOnly = options.pollOnly === true;
    const tag = randomBytes(6).toString('hex');
    const channel = channelFor(options.schema ?? SCHEMA);
    this.#notifier = new Notifier(pool, tag, channel);
    this.#listener = new Listener(url, tag, () => this.#changed(), { heartbeatMs: options.heartbeatMs ?? 5_000, heartbeatTimeoutMs: 3_000 }, channel);
  }

  /** The listener, for tests and status: whether it is up, and the backend serving it. */
  get listener(): { up: boolean; backendPid: number | undefined; stats: Listener['stats'] } {
    return { up: this.#listener.up, backendPid: this.#listener.backendPid, stats: this.#listener.stats };
  }

  get notifications(): Notifier['stats'] {
    return this.#notifier.stats;
  }

  write<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    return this.#transaction(true, fn, options);
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    return this.#transaction(false, fn, options);
  }

  async #transaction<T>(write: boolean, fn: (tx: StoreTx) => Promise<T>, options: TxOptions): Promise<T> {
    const deadline = options.deadline ?? performance.now() + DEFAULT_DEADLINE_MS;
    let firstLoss: number | undefined;
    const reconnecting = (error: unknown): boolean => {
      if (!isConnectionLost(error)) return false;
      firstLoss ??= performance.now();
      return performance.now() - firstLoss < RECONNECT_MS && performance.now() < deadline;
    };
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new BatonError('STORE_ERROR', `the store ${this.target} is closed`);
      options.signal?.throwIfAborted();
      let client: PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        // Nothing was sent: reaching the server again is safe to try until the deadline.
        if (reconnecting(error)) {
          await pause(backoff(attempt));
          continue;
        }
        throw storeError(error, this.target);
      }
      const outcome = await this.#attempt(client, write, fn);
      if (outcome.ok) return outcome.value;
      const { error, committing } = outcome;
      if (committing && isConnectionLost(error)) {
        throw new BatonError('UNAVAILABLE', `the connection to PostgreSQL at ${this.target} was lost while the transaction committed: it may or may not have taken effect; retry with the same idempotency key to find out`, {
          cause: error,
          details: { store: 'postgres', target: this.target, outcome: 'unknown' },
        });
      }
      const again = isRetryable(error) || reconnecting(error);
      if (!again || performance.now() > deadline) {
        if (isRetryable(error)) throw new BatonError('LOCK_TIMEOUT', `PostgreSQL at ${this.target} stayed contended past the deadline (${(error as { code?: string }).code})`, { cause: error });
        throw storeError(error, this.target);
      }
      this.stats.retries++;
      await pause(backoff(attempt));
    }
  }

  async #attempt<T>(client: PoolClient, write: boolean, fn: (tx: StoreTx) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown; committing: boolean }> {
    let committing = false;
    let broken = false;
    // The pool listens for errors only on idle connections: one cut while we hold it (pg_terminate_backend,
    // a restart, a failover) would be an unhandled 'error' event and end the process. Its query fails instead.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      // BEGIN, the settings and the clock in one round trip (the connection is pipelined).
      const begin = client.query(write ? 'BEGIN ISOLATION LEVEL READ COMMITTED' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const timeout = write ? client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms'`) : undefined;
      const clock = client.query<{ now: number }>({ name: NOW_STATEMENT.name, text: NOW_STATEMENT.text });
      clock.catch(() => undefined);
      timeout?.catch(() => undefined);
      await begin;
      await timeout;
      const tx = new PgTx(client, (await clock).rows[0]!.now, write, this.#memo);
      const value = await fn(tx);
      committing = true;
      await tx.commit();
      this.stats.statements += tx.statements + 2 + (write ? 1 : 0);
      if (write) {
        this.stats.writes++;
        this.#changed();
        if (tx.wrote) this.#notifier.committed();
      } else {
        this.stats.reads++;
      }
      return { ok: true, value };
    } catch (error) {
      broken = isConnectionLost(error);
      if (!broken && !committing) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      return { ok: false, error, committing };
    } finally {
      client.off('error', onError);
      // A connection that failed is not given back for reuse.
      client.release(broken ? true : undefined);
    }
  }

  #changed(): void {
    this.#counter++;
    const all = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of all) wake();
  }

  async changeCounter(): Promise<number> {
    // Whoever watches for changes will wait for one: listen from now on.
    if (!this.#pollOnly) this.#listener.start();
    return this.#counter;
  }

  /** Resolves on a commit here or a NOTIFY from another node, or after a poll interval (short while the listener is down). */
  async waitForCommit(seen: number, maxMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.#pollOnly) this.#listener.start();
    if (this.#counter !== seen) return;
    if (signal?.aborted) throw new BatonError('ABORTED', 'aborted while waiting');
    const wait = Math.min(maxMs, this.#listener.up ? this.#backstopMs : this.#pollMs);
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        reject(new BatonError('ABORTED', 'aborted while waiting'));
      };
      const timer = setTimeout(done, wait);
      this.#wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async now(): Promise<number> {
    return this.read(async (tx) => tx.now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#wakers]) wake();
    await this.#listener.close();
    await this.#notifier.close();
    await this.#pool.end().catch(() => undefined);
  }
}

/** Jittered exponential backoff: 2, 4, 8 ... up to 200 ms, each between half and all of it. */
function backoff(attempt: number): number {
  return Math.min(200, 2 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random() / 2);
}
