// One transaction of the SQLite store: the only way in to its statements and
// fencing tokens, so every statement the engine runs is inside a read or write.
import type { Params, QueryName, Row, RunResult, StoreTx } from '../store.ts';
import type { Statements } from './statements.ts';
import type { TokenEpochs } from './token-epochs.ts';

export class SqliteTx implements StoreTx {
  readonly now: number;
  readonly exclusive = true;
  /** Set when the commit must be synced to disk whatever the durability (an epoch bump). */
  durable = false;
  readonly #statements: Statements;
  readonly #epochs: TokenEpochs;

  readonly memo: Map<string, unknown>;

  constructor(statements: Statements, epochs: TokenEpochs, now: number, memo: Map<string, unknown>) {
    this.memo = memo;
    this.#statements = statements;
    this.#epochs = epochs;
    this.now = now;
  }

  async get<T extends Row>(query: QueryName, params?: Params): Promise<T | undefined> {
    return this.#statements.get<T>(query, params);
  }

  async all<T extends Row>(query: QueryName, params?: Params): Promise<T[]> {
    return this.#statements.all<T>(query, params);
  }

  async run(query: QueryName, params?: Params): Promise<RunResult> {
    return this.#statements.run(query, params);
  }

  /** SQLite runs in this process: at once, as run does. */
  defer(query: QueryName, params?: Params): void {
    this.#statements.run(query, params);
  }

  async nextToken(last: number): Promise<number> {
    return this.#epochs.next(last, this.#statements, this);
  }

  /** Every SQLite write holds the database's one write lock already. */
  async lock(_resource: string): Promise<void> {}
}
