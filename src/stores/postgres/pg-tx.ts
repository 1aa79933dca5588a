// One transaction of the PostgreSQL store on one pooled connection. The
// connection is pipelined: a lock the engine asks for is sent with the
// statement after it, in one round trip, and only ever before it (a lock
// taken in the same statement as a read would not cover that read's snapshot).
import type { PoolClient, QueryResult } from 'pg';
import { BatonError } from '../../errors.ts';
import type { Params, QueryName, Row, RunResult, StoreTx } from '../store.ts';
import { LOCK_STATEMENT, lockId, statementFor, valuesFor, type Statement } from './statements.ts';

export class PgTx implements StoreTx {
  readonly now: number;
  readonly exclusive = false;
  /** Whether a statement changed a row: the commit is announced to other nodes (notifier.ts). */
  wrote = false;
  /** Statements sent, for the round-trip counts the benchmark prints. */
  statements = 0;
  readonly #client: PoolClient;
  readonly #write: boolean;
  readonly #locked = new Set<string>();
  #pendingLocks: string[] = [];
  /** Deferred statements on the wire, and the first of them that failed (the transaction is aborted from there on). */
  #deferred: Array<Promise<unknown>> = [];
  #deferredError: unknown;

  readonly memo: Map<string, unknown>;

  constructor(client: PoolClient, now: number, write: boolean, memo: Map<string, unknown>) {
    this.memo = memo;
    this.#client = client;
    this.now = now;
    this.#write = write;
  }

  async #query(statement: Statement, values: unknown[]): Promise<QueryResult> {
    const locks = this.#pendingLocks.map((id) => this.#client.query({ name: LOCK_STATEMENT.name, text: LOCK_STATEMENT.text, values: [id] }));
    this.#pendingLocks = [];
    // Sent at once behind the locks; a failed lock fails it too (the transaction is aborted), so its error is the one to report.
    const result = this.#client.query({ name: statement.name, text: statement.text, values });
    this.statements += locks.length + 1;
    if (locks.length > 0) {
      result.catch(() => undefined);
      await Promise.all(locks);
    }
    let done: QueryResult;
    try {
      done = await result;
    } catch (error) {
      // Aborted by a deferred statement before it: that one's error is the cause.
      throw this.#deferredError ?? error;
    }
    this.#noteWrite(done);
    return done;
  }

  #noteWrite(done: QueryResult): void {
    if (done.command !== 'SELECT' && (done.rowCount ?? 0) > 0) this.wrote = true;
  }

  defer(query: QueryName, params?: Params): void {
    const statement = statementFor(query, this.#write);
    const locks = this.#pendingLocks.map((id) => this.#client.query({ name: LOCK_STATEMENT.name, text: LOCK_STATEMENT.text, values: [id] }));
    this.#pendingLocks = [];
    this.statements += locks.length + 1;
    for (const sent of [...locks, this.#client.query({ name: statement.name, text: statement.text, values: valuesFor(statement, params) })]) {
      this.#deferred.push(
        sent.then(
          (done) => this.#noteWrite(done),
          (error: unknown) => {
            this.#deferredError ??= error;
          },
        ),
      );
    }
  }

  /**
   * Commits: COMMIT goes out behind the deferred statements, and they are
   * awaited with it. If one failed, the server answered COMMIT with ROLLBACK
   * (nothing was committed) and its error is thrown.
   */
  async commit(): Promise<void> {
    const commit = this.#client.query('COMMIT');
    commit.catch(() => undefined);
    await Promise.all(this.#deferred);
    const done = await commit;
    if (this.#deferredError !== undefined) throw this.#deferredError;
    if (done.command !== 'COMMIT') throw new BatonError('STORE_ERROR', `PostgreSQL answered COMMIT with ${done.command}: the transaction was not committed`);
  }

  async get<T extends Row>(query: QueryName, params?: Params): Promise<T | undefined> {
    const statement = statementFor(query, this.#write);
    return (await this.#query(statement, valuesFor(statement, params))).rows[0] as T | undefined;
  }

  async all<T extends Row>(query: QueryName, params?: Params): Promise<T[]> {
    const statement = statementFor(query, this.#write);
    return (await this.#query(statement, valuesFor(statement, params))).rows as T[];
  }

  async run(query: QueryName, params?: Params): Promise<RunResult> {
    const statement = statementFor(query, this.#write);
    const result = await this.#query(statement, valuesFor(statement, params));
    const changes = result.rowCount ?? 0;
    // INSERT ... RETURNING id (or seq): the new row's id, as SQLite's last rowid.
    const first = result.rows[0] as Record<string, unknown> | undefined;
    const lastId = first === undefined ? 0 : Number(Object.values(first)[0]);
    return { changes, lastId };
  }

  /**
   * Fencing tokens come from the fence row of each key (locked, never
   * deleted) and from each task's own row: one more than the last, never
   * backwards, never wrapping. PostgreSQL's commit is durable before it
   * returns (synchronous_commit = on), so no epoch is needed as on SQLite.
   */
  async nextToken(last: number): Promise<number> {
    const token = last + 1;
    if (!Number.isSafeInteger(token)) throw new BatonError('STORE_ERROR', `fencing token space exhausted (${token})`);
    return token;
  }

  async lock(resource: string): Promise<void> {
    if (!this.#write || this.#locked.has(resource)) return;
    this.#locked.add(resource);
    this.#pendingLocks.push(lockId(resource));
  }
}
