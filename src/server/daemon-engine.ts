// Opening a daemon's engine over its database, and running the daemon as a
// node of it: once for the daemon's home project, and once for each other
// project it serves (src/server/projects.ts), whose store is a sibling file
// or a schema of its own.
import { dirname } from 'node:path';
import { Engine } from '../engine/engine.ts';
import { BatonError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import { DEFAULT_NODE_TTL_MS } from '../limits.ts';
import { statePaths } from '../project/state-dir.ts';
import { openSqliteStore } from '../stores/sqlite/sqlite-store.ts';
import type { Durability, Store } from '../stores/store.ts';
import type { DaemonOptions } from './daemon.ts';
import { StoreProbe } from './health.ts';
import type { Logger } from './log.ts';
import { GroupWriter } from './writer.ts';

/** Everything a running daemon holds, each pushed as it is made: a failed start and a stop both unwind it, last made first. */
export type Held = AsyncDisposableStack;

export type EngineOpenOptions = Pick<DaemonOptions, 'stateDir' | 'store' | 'poolSize' | 'pollOnly' | 'durability' | 'maxQueue' | 'engine' | 'sweepIntervalMs' | 'nodeTtlMs' | 'root'>;

/** Where a project other than the home one keeps its state: a schema (PostgreSQL), a file beside the home database (SQLite). */
export interface ProjectStore {
  schema?: string;
  sqliteFile?(homeDatabase: string): string;
}

export interface OpenedEngine {
  info: StoreInfo;
  writer: GroupWriter;
  engine: Engine;
}

export interface RunningNode {
  id: string;
  ttlMs: number;
  probe: StoreProbe;
}

/** What the daemon's database is, for status and its log (never a password). */
export interface StoreInfo {
  kind: 'sqlite' | 'postgres';
  where: string;
  durability: Durability;
  /** Makes every commit so far survive a power loss (SQLite's 'normal' durability syncs when idle). */
  syncToDisk(): void;
}


/**
 * The database: on SQLite, a store for writes behind the group-committing
 * writer and one for reads; on PostgreSQL, one pooled store that is both (the
 * writer passes each write through). The engine owns the stores once it is
 * made (its close closes the writer, which drains its queue and closes them).
 */
export async function openEngine(held: Held, options: EngineOpenOptions, where: ProjectStore = {}): Promise<OpenedEngine> {
  const opening = new AsyncDisposableStack();
  let made: OpenedEngine;
  try {
    let writes: Store;
    let reads: Store;
    let info: StoreInfo;
    if (options.store !== undefined && /^postgres(ql)?:\/\//.test(options.store)) {
      const { openPostgresStore } = await import('../stores/postgres/postgres-store.ts');
      const store = opening.adopt(await openPostgresStore(options.store, { ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }), ...(where.schema === undefined ? {} : { schema: where.schema }), pollOnly: options.pollOnly === true }), (s) => s.close());
      writes = reads = store;
      info = { kind: 'postgres', where: where.schema === undefined ? store.target : `${store.target} schema ${where.schema}`, durability: 'full', syncToDisk: () => undefined };
    } else {
      if (options.store !== undefined && !options.store.startsWith('sqlite:')) {
        throw new BatonError('INVALID_ARGUMENT', `the daemon's store must be postgres://user:password@host:port/database or sqlite:<path>, got ${JSON.stringify(options.store.replace(/\/\/[^@/]*@/, '//***@'))}`);
      }
      const home = options.store?.slice('sqlite:'.length) ?? statePaths(options.stateDir).database;
      const database = where.sqliteFile?.(home) ?? home;
      if (database !== home) makeDirectories(dirname(database), 0o700);
      const sqlite = opening.adopt(await openSqliteStore(database, options.durability === undefined ? {} : { durability: options.durability }), (store) => store.close());
      writes = sqlite;
      reads = opening.adopt(await openSqliteStore(database), (store) => store.close());
      info = { kind: 'sqlite', where: database, durability: sqlite.durability, syncToDisk: () => sqlite.syncToDisk() };
    }
    const writer = new GroupWriter(writes, reads, { ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }) });
    made = { info, writer, engine: new Engine(writer, { ...options.engine, ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }) }) };
  } catch (error) {
    await opening.disposeAsync();
    throw error;
  }
  // The engine owns the stores now: only its close goes on the stack.
  const { info, writer, engine } = made;
  held.defer(() => engine.close());
  await engine.sweepIfDue();
  return { info, writer, engine };
}

/**
 * This daemon as a node: registered, heartbeat every third of its TTL. A
 * heartbeat that fails (the database is unreachable) is tried again at the
 * next tick; a node the others have given up on keeps its id, and its
 * clients find their sessions ended (SESSION_ENDED) and register again.
 */
export async function runNode(held: Held, engine: Engine, options: EngineOpenOptions, log: Logger): Promise<RunningNode> {
  const ttlMs = options.nodeTtlMs ?? DEFAULT_NODE_TTL_MS;
  const id = await engine.registerNode(`baton serve (${options.root})`, ttlMs);
  // Each heartbeat is a write through the writer: its outcome is the readiness check of the store (health.ts).
  const probe = new StoreProbe();
  const timer = setInterval(() => {
    engine.heartbeatNode(id).then(
      (alive) => {
        probe.succeeded();
        if (!alive) log.warn('this node was ended: its sessions were ended with it', { node: id });
      },
      (error: unknown) => {
        probe.failed(error);
        log.warn('node heartbeat failed', { node: id, error: error instanceof Error ? error.message : String(error) });
      },
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  held.defer(() => clearInterval(timer));
  return { id, ttlMs, probe };
}
