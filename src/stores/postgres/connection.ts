// Reaching PostgreSQL: the driver (node-postgres, loaded only when a postgres
// url is opened), what a url names (never its password, in any message), and
// the connection settings every connection of the store gets.
import type { ClientConfig, Pool, PoolConfig } from 'pg';
import { BatonError } from '../../errors.ts';
import { SCHEMA } from './schema.ts';

type Pg = typeof import('pg').default;

let driver: Pg | undefined;

/** node-postgres, loaded on first use: an application on SQLite never pays for it. */
export async function loadDriver(): Promise<Pg> {
  driver ??= (await import('pg')).default;
  return driver;
}

/** The url's target for messages: user@host:port/database, without the password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
    return `${user}${u.hostname === '' ? 'localhost' : u.hostname}:${u.port === '' ? '5432' : u.port}${u.pathname === '' ? '' : u.pathname}`;
  } catch {
    throw new BatonError('INVALID_ARGUMENT', 'the PostgreSQL url is not a valid url (postgres://user:password@host:port/database)');
  }
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/**
 * bigint (int8) and numeric come back as JS numbers, as SQLite's integers do:
 * every value the store keeps (milliseconds, tokens, counts, sums of token
 * counts) is a safe integer by the engine's own limits (src/limits.ts).
 */
function typesFor(pg: Pg): NonNullable<ClientConfig['types']> {
  const INT8 = 20;
  const NUMERIC = 1700;
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as NonNullable<ClientConfig['types']>['getTypeParser'],
  };
}

/** Settings every connection of the store is opened with; `role` names it in pg_stat_activity (baton, baton-listener). */
export function clientConfig(pg: Pg, url: string, role = 'baton'): ClientConfig {
  return {
    connectionString: url,
    types: typesFor(pg),
    // A peer that vanished (a half-open socket) is noticed instead of waited on forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    connectionTimeoutMillis: 10_000,
    application_name: role,
  };
}

/** The pool of one store: small (see PostgresStoreOptions.poolSize), pipelined, with the schema on its search path. */
export function openPool(pg: Pg, url: string, size: number, schema = SCHEMA): Pool {
  const config: PoolConfig & { pipeline: boolean } = {
    ...clientConfig(pg, url),
    max: size,
    // Kept open once made (postgres-store.ts opens them all at once): a connection made in the middle of a
    // burst costs its transaction a few milliseconds, enough to reorder two requests sent in order.
    idleTimeoutMillis: 0,
    // Statements are sent without waiting for the one before: BEGIN and the first statement, a lock and its read, travel together.
    pipeline: true,
  };
  const pool = new pg.Pool(config);
  pool.on('connect', (client) => {
    client.query(`SET search_path TO ${schema}`).catch(() => undefined);
    // For good: pg-pool listens for errors only while a connection is idle, and hands a released one
    // to the next waiter before that waiter can listen. A server's FATAL read in that gap (a terminated
    // backend) would be an unhandled 'error' event; the query on it fails instead, and the store drops it.
    client.on('error', () => undefined);
  });
  // An idle connection that dies (the server restarted) is dropped by the pool; it must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
