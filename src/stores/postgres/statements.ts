// The catalog as node-postgres runs it: each named query's `$name`
// parameters numbered ($1, $2, ...) once, and a statement name, so every
// connection prepares a statement on first use and only binds it afterwards.
import { createHash } from 'node:crypto';
import type { Params, QueryName } from '../store.ts';
import { postgresQueries, writeQueries } from './queries.ts';

export interface Statement {
  /** The prepared statement's name on each connection. */
  name: string;
  text: string;
  /** The parameter names, in the order of $1, $2, ... */
  params: string[];
}

function compile(name: string, sql: string): Statement {
  const params: string[] = [];
  const text = sql.replace(/\$([A-Za-z][A-Za-z0-9]*)/g, (_, param: string) => {
    let at = params.indexOf(param);
    if (at === -1) at = params.push(param) - 1;
    return `$${at + 1}`;
  });
  return { name, text, params };
}

const reads = new Map<QueryName, Statement>();
const writes = new Map<QueryName, Statement>();

/** The statement for a query: in a write transaction, its locking form if it has one. */
export function statementFor(query: QueryName, inWrite: boolean): Statement {
  const locking = inWrite ? writeQueries[query] : undefined;
  const cache = locking === undefined ? reads : writes;
  let statement = cache.get(query);
  if (statement === undefined) {
    statement = compile(locking === undefined ? `baton_${query}` : `baton_${query}_locked`, locking ?? postgresQueries[query]);
    cache.set(query, statement);
  }
  return statement;
}

export function valuesFor(statement: Statement, params: Params | undefined): Array<string | number | null> {
  return statement.params.map((p) => params?.[p] ?? null);
}

/** The advisory lock taken for a resource name: a 64-bit hash of it (a collision only serialises two unrelated writes). */
export function lockId(resource: string): string {
  return createHash('sha256').update(resource).digest().readBigInt64BE(0).toString();
}

export const LOCK_STATEMENT: Statement = { name: 'baton_lock', text: 'SELECT pg_advisory_xact_lock($1::bigint)', params: ['id'] };
/** The database's clock, read once per transaction (now() is the transaction's start). */
export const NOW_STATEMENT: Statement = { name: 'baton_now', text: 'SELECT floor(extract(epoch FROM now()) * 1000)::bigint AS now', params: [] };
