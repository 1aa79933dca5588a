// The embedded store: one SQLite file (node:sqlite, WAL) that many processes
// open at once. Every write is BEGIN IMMEDIATE; SQLITE_BUSY is retried with
// short jittered backoff, never surfaced (busy.ts), and a writer kept out too
// long raises its hand for a turn (writer-turn.ts). The engine's statements
// run only through a transaction's SqliteTx (sqlite-tx.ts).
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BatonError, fsError } from '../../errors.ts';
import { makePrivateDirectory } from '../../files/private-directory.ts';
import type { Durability, Settled, Store, StoreTx, TxOptions } from '../store.ts';
import { backoff, DEFAULT_DEADLINE_MS, isBusy, pauseBriefly } from './busy.ts';
import { CommitSignal } from './commit-signal.ts';
import { monotonicUs } from './wait-list.ts';
import { setUpConnection } from './setup.ts';
import { SqliteTx } from './sqlite-tx.ts';
import { Statements } from './statements.ts';
import { TokenEpochs } from './token-epochs.ts';
import { WriterTurn } from './writer-turn.ts';

export interface SqliteStoreOptions {
  /**
   * 'normal' (default): WAL with synchronous=NORMAL; survives a crash of any
   * process, a power loss may roll back the last commits (fencing tokens still
   * never go backwards). 'full': every commit is on disk before it returns.
   */
  durability?: Durability;
  /**
   * The page size in bytes of a database this call creates: a power of two
   * from 512 to 65536, default 1024. A database that exists keeps its own.
   * Small pages make single operations cheaper, large ones batch claims (see
   * docs/engine.md).
   */
  pageSize?: number;
}

/**
 * The default page size of a new database (SQLite's is 4096). A commit writes
 * every page it changed to the WAL: one lease acquire or one task claim
 * changes 6 or 7 small rows on as many pages, and with 1 KiB pages such a
 * commit cost 22 µs instead of 50.
 */
const DEFAULT_PAGE_BYTES = 1024;

export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const durability = options.durability ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') {
    throw new BatonError('INVALID_ARGUMENT', `durability must be 'normal' or 'full', not ${JSON.stringify(durability)}`);
  }
  const pageSize = options.pageSize ?? DEFAULT_PAGE_BYTES;
  if (!Number.isInteger(pageSize) || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new BatonError('INVALID_ARGUMENT', `pageSize must be a power of two from 512 to 65536 bytes, not ${typeof pageSize === 'number' ? String(pageSize) : JSON.stringify(pageSize)}`);
  }
  const memory = path === ':memory:';
  if (!memory) {
    // A directory made for the database is private (0700), and its .gitignore keeps it out of git.
    try {
      makePrivateDirectory(dirname(path));
    } catch (error) {
      throw fsError(error, 'create the database directory', dirname(path));
    }
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new BatonError('STORE_ERROR', `cannot open the SQLite database ${path}: ${(error as Error).message}`, { cause: error });
  }
  const epoch = await setUpConnection(db, memory, durability, pageSize);
  return new SqliteStore(db, path, durability, epoch);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly durability: Durability;
  readonly #db: DatabaseSync;
  readonly #statements: Statements;
  readonly #epochs: TokenEpochs;
  /** StoreTx.memo: the engine's caches of this store. */
  readonly #memo = new Map<string, unknown>();
  #dataVersion: StatementSync | undefined;
  #queue: Promise<void> = Promise.resolve();
  #localCommits = 0;
  #closed = false;
  readonly #turn: WriterTurn | undefined;
  /** Wakes waiters on commits: this store's own, and those of other processes (commit-signal.ts). */
  readonly #commits: CommitSignal;

  /** A connection openSqliteStore has set up, and the epoch it bumped. */
  constructor(db: DatabaseSync, path: string, durability: Durability, openerEpoch: number) {
    this.#db = db;
    this.path = path;
    this.durability = durability;
    this.#statements = new Statements(db);
    this.#epochs = new TokenEpochs(openerEpoch);
    if (path !== ':memory:') this.#turn = new WriterTurn(path);
    this.#commits = new CommitSignal(path);
  }

  /** What this connection runs with, as SQLite reports it (for checks and diagnostics): synchronous 1 is NORMAL, 2 FULL. */
  connectionSettings(): { synchronous: number; journalMode: string } {
    const { synchronous } = this.#db.prepare('PRAGMA synchronous').get() as { synchronous: number };
    const { journal_mode: journalMode } = this.#db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    return { synchronous, journalMode };
  }

  /** One operation at a time on this connection: a transaction may await between its statements. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#queue;
    let done!: () => void;
    this.#queue = new Promise((resolve) => (done = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      done();
    }
  }

  #tx(): SqliteTx {
    return new SqliteTx(this.#statements, this.#epochs, Date.now(), this.#memo);
  }

  write<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    return this.#transaction('BEGIN IMMEDIATE', fn, options);
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    return this.#transaction('BEGIN', fn, options);
  }

  async #transaction<T>(begin: string, fn: (tx: StoreTx) => Promise<T>, options: TxOptions): Promise<T> {
    const deadline = options.deadline ?? performance.now() + DEFAULT_DEADLINE_MS;
    const turn = begin === 'BEGIN' ? undefined : this.#turn;
    let firstBusy = 0;
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.#closed) throw new BatonError('STORE_ERROR', `the store ${this.path} is closed`);
        options.signal?.throwIfAborted();
        const outcome = await this.#attempt(begin, fn, turn);
        if (!outcome.busy) return outcome.value;
        const now = performance.now();
        if (now > deadline) {
          throw new BatonError('LOCK_TIMEOUT', `the database ${this.path} stayed busy with other writers past the deadline`);
        }
        if (firstBusy === 0) firstBusy = now;
        turn?.keptOut(now - firstBusy);
        if (turn?.raised) {
          // The others are stepping aside: try again as soon as the holder's transaction may be over.
          await pauseBriefly();
        } else {
          await backoff(attempt);
        }
      }
    } finally {
      turn?.lower();
    }
  }

  #attempt<T>(begin: string, fn: (tx: StoreTx) => Promise<T>, turn: WriterTurn | undefined): Promise<{ busy: true } | { busy: false; value: T }> {
    return this.#exclusive(async () => {
      if (turn?.othersWaiting()) return { busy: true as const };
      if (begin !== 'BEGIN') this.#commits.writing();
      try {
        this.#db.exec(begin);
      } catch (error) {
        if (isBusy(error)) return { busy: true as const };
        throw error;
      }
      turn?.lower();
      const tx = this.#tx();
      try {
        const value = await fn(tx);
        const committedAt = monotonicUs(); // under the write lock: commits' times are in their order
        this.#db.exec('COMMIT');
        if (begin !== 'BEGIN') {
          this.#localCommits++;
          this.#commits.committed(committedAt);
        }
        if (tx.durable && this.durability !== 'full') this.#syncFiles();
        return { busy: false as const, value };
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        if (tx.durable) this.#epochs.forgetBump(this.#statements);
        if (isBusy(error)) return { busy: true as const };
        throw error;
      }
    });
  }

  async writeBatch(fns: Array<(tx: StoreTx) => Promise<unknown>>, options: TxOptions = {}): Promise<Array<Settled<unknown>>> {
    // Batches almost always succeed whole: run them without a savepoint per
    // operation (two statements each), and only when one fails, roll back and
    // run the batch again with savepoints, so a failure undoes only its own
    // operation. Operations may run twice: they already do after SQLITE_BUSY.
    try {
      return await this.write(async (outer) => {
        const results: Array<Settled<unknown>> = [];
        for (const fn of fns) {
          const tx = this.#tx();
          try {
            results.push({ ok: true, value: await fn(tx) });
          } catch (error) {
            throw new OperationFailed(error);
          } finally {
            (outer as SqliteTx).durable ||= tx.durable;
          }
        }
        return results;
      }, options);
    } catch (error) {
      if (!(error instanceof OperationFailed)) throw error;
    }
    return this.write(async (outer) => {
      const results: Array<Settled<unknown>> = [];
      let durable = false;
      for (const fn of fns) {
        const tx = this.#tx();
        this.#db.exec('SAVEPOINT op');
        try {
          const value = await fn(tx);
          this.#db.exec('RELEASE op');
          durable ||= tx.durable;
          results.push({ ok: true, value });
        } catch (error) {
          this.#db.exec('ROLLBACK TO op');
          this.#db.exec('RELEASE op');
          if (tx.durable) this.#epochs.forgetBump(this.#statements);
          results.push({ ok: false, error });
        }
      }
      (outer as SqliteTx).durable ||= durable;
      return results;
    }, options);
  }

  /**
   * Makes every commit so far durable (with durability 'normal' they survive a
   * power loss only once a checkpoint or this has synced them). The daemon
   * calls it when it goes idle.
   */
  syncToDisk(): void {
    if (!this.#closed && this.durability !== 'full') this.#syncFiles();
  }

  /** Makes every commit so far durable (the WAL and the database file), as synchronous=FULL would have. */
  #syncFiles(): void {
    for (const file of [`${this.path}-wal`, this.path]) {
      try {
        const fd = openSync(file, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch {
        // no WAL right now: everything is in the database file, synced above or by the checkpoint
      }
    }
  }

  async changeCounter(): Promise<number> {
    if (this.#closed) return this.#localCommits;
    this.#dataVersion ??= this.#db.prepare('PRAGMA data_version');
    const row = this.#dataVersion.get() as { data_version: number };
    return row.data_version * 1e6 + this.#localCommits;
  }

  /**
   * Resolves when the change counter moves past `seen` (a commit by any
   * process), or after maxMs. A `first` waiter (a lease waiter) sleeps on
   * the wait list that commits wake, and keeps the process alive meanwhile
   * (its caller awaits it); others (an event subscription) poll, and do not.
   * Polling is the fallback for lost wakes (commit-signal.ts).
   */
  async waitForCommit(seen: number, maxMs: number, signal?: AbortSignal, first = false): Promise<void> {
    const until = performance.now() + maxMs;
    this.#commits.begin(first);
    try {
      for (;;) {
        // Marked before the read: a commit after it wakes the wait below.
        const mark = this.#commits.mark();
        if ((await this.changeCounter()) !== seen) return;
        const left = until - performance.now();
        if (left <= 0) return;
        if (first && this.#commits.sleeping()) continue; // just joined the list: look once more before sleeping
        await this.#commits.wait(mark, Math.min(left, this.#commits.pollMs(first)), signal, first);
      }
    } finally {
      this.#commits.end(first);
    }
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#exclusive(async () => {
      this.#closed = true;
      this.#commits.close();
      this.#db.close();
    });
  }
}

/** An operation of a batch failed: the batch is rolled back and run again with savepoints. */
class OperationFailed extends Error {
  constructor(cause: unknown) {
    super('an operation of the batch failed', { cause });
  }
}
