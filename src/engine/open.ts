// openCoordinator: the Coordinator over a store in this process: the
// embedded SQLite store (sqlite: urls) or PostgreSQL (postgres:// urls, many
// processes on many machines over one database). The daemon's schemes are the
// client's: its openCoordinator (src/client/open.ts) opens those itself and
// dispatches these here.
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { Durability } from '../stores/store.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { engineSettings } from './settings.ts';

export interface OpenOptions extends EngineOptions {
  /**
   * `sqlite:<path>` (a file many processes may share), `sqlite::memory:`
   * (this process only), or `postgres://user:password@host:port/database`
   * (every process and machine that opens it; the schema is created or
   * upgraded on open).
   */
  url: string;
  /** PostgreSQL: connections this process keeps at most (default 4), plus one that listens for other nodes' commits. */
  poolSize?: number;
  /** SQLite durability: 'normal' (default) survives process crashes, 'full' also power loss. */
  durability?: Durability;
  /**
   * Page size in bytes of a database file created by this open (sqlite: urls;
   * a daemon keeps its own default): a power of two from 512 to 65536,
   * default 1024 (cheapest single operations). Queues claimed hundreds of
   * tasks at a time run faster with 4096. A file that exists keeps its own.
   */
  pageSize?: number;
}

export async function openCoordinator(options: OpenOptions): Promise<Coordinator> {
  if (typeof options !== 'object' || options === null || typeof options.url !== 'string') {
    throw new BatonError('INVALID_ARGUMENT', 'openCoordinator needs { url }, e.g. "sqlite:.baton/baton.db"');
  }
  const { url } = options;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new BatonError('INVALID_ARGUMENT', `the url ${JSON.stringify(url)} names no file; use sqlite:<path> or sqlite::memory:`);
    engineSettings(options); // bad options are refused before a file is made
    // Loaded here, not imported: a static import of node:sqlite would fail the whole package's import
    // on an older Node before its version check could say which Node is needed (src/require-node.ts).
    const { openSqliteStore } = await import('../stores/sqlite/sqlite-store.ts');
    const store = await openSqliteStore(path, {
      ...(options.durability === undefined ? {} : { durability: options.durability }),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    });
    const engine = new Engine(store, options);
    await engine.sweepIfDue();
    return engine;
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    engineSettings(options);
    const { openPostgresStore } = await import('../stores/postgres/postgres-store.ts');
    const store = await openPostgresStore(url, options.poolSize === undefined ? {} : { poolSize: options.poolSize });
    const engine = new Engine(store, options);
    await engine.sweepIfDue();
    return engine;
  }
  throw new BatonError('INVALID_ARGUMENT', `unsupported coordinator url ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}; use sqlite:<path>, sqlite::memory: or postgres://user:password@host:port/database`);
}
