// The prepared statements of one connection, by query name, and the objects
// their rows are made into. Only a transaction (SqliteTx) runs them, and the
// store itself to read the epoch again after a rollback: nothing outside the
// store can run a statement outside its read/write transactions.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Params, QueryName, Row, RunResult } from '../store.ts';
import { sqliteQueries } from './queries.ts';

/** Up to this n, a statement's `LIMIT $n` is written into its SQL (see #forCall). */
const INLINE_LIMIT_MAX = 64;

interface Prepared {
  statement: StatementSync;
  toRow: (values: unknown[]) => Row;
}

/**
 * Rows come back as arrays and are made into objects by a function compiled
 * for the statement's columns: node:sqlite's own row objects are built
 * property by property into slow (dictionary) objects, which cost several
 * times more to make, read and copy. The column names are our own SQL's.
 */
function prepare(db: DatabaseSync, sql: string): Prepared {
  const statement = db.prepare(sql);
  statement.setReturnArrays(true);
  const fields = statement.columns().map((column, i) => `${JSON.stringify(column.name)}: v[${i}]`);
  const toRow = new Function('v', `return { ${fields.join(', ')} };`) as (values: unknown[]) => Row;
  return { statement, toRow };
}

export class Statements {
  readonly #db: DatabaseSync;
  #statements = new Map<QueryName, Prepared>();
  #limited = new Map<string, Prepared>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  run(sqlName: QueryName, params: Params | undefined): RunResult {
    const [{ statement }, values] = this.#forCall(sqlName, params);
    const result = statement.run(values);
    return { changes: Number(result.changes), lastId: Number(result.lastInsertRowid) };
  }

  get<T extends Row>(sqlName: QueryName, params: Params | undefined): T | undefined {
    const [{ statement, toRow }, values] = this.#forCall(sqlName, params);
    const row = statement.get(values) as unknown as unknown[] | undefined;
    return row === undefined ? undefined : (toRow(row) as T);
  }

  all<T extends Row>(sqlName: QueryName, params: Params | undefined): T[] {
    const [{ statement, toRow }, values] = this.#forCall(sqlName, params);
    return (statement.all(values) as unknown as unknown[][]).map(toRow) as T[];
  }

  #statement(query: QueryName): Prepared {
    let prepared = this.#statements.get(query);
    if (prepared === undefined) {
      prepared = prepare(this.#db, sqliteQueries[query]);
      this.#statements.set(query, prepared);
    }
    return prepared;
  }

  /**
   * The statement for a call, and its parameters. SQLite plans `LIMIT $n`
   * worse than a constant limit: a claim of one task took 79 µs with the
   * parameter and 21 µs with `LIMIT 1` (no slower at any n we tried), so a
   * small n is written into the SQL, one statement per n.
   */
  #forCall(query: QueryName, params: Params | undefined): [Prepared, Params] {
    const n = params?.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > INLINE_LIMIT_MAX || !sqliteQueries[query].includes('LIMIT $n')) {
      return [this.#statement(query), params ?? {}];
    }
    const name = `${query}#${n}`;
    let prepared = this.#limited.get(name);
    if (prepared === undefined) {
      prepared = prepare(this.#db, sqliteQueries[query].replaceAll('LIMIT $n', `LIMIT ${n}`));
      this.#limited.set(name, prepared);
    }
    const { n: _inlined, ...rest } = params!;
    return [prepared, rest];
  }
}
