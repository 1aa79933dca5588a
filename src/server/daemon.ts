// `baton serve`: one daemon per state directory. It owns the database through
// a single group-committing writer, listens on a unix socket (0600, in the
// 0700 state directory), a Windows named pipe, or TCP with authentication,
// and stops cleanly on SIGTERM: the queue is drained, nothing acknowledged is
// lost, and sessions survive a restart (their clients re-attach).
import { createHash } from 'node:crypto';
import { existsSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.ts';
import { lastEventSeq } from '../engine/events.ts';
import { BatonError } from '../errors.ts';
import { writeJsonAtomic } from '../files/atomic-write.ts';
import { makeDirectories } from '../files/directories.ts';
import { acquireLock, type LockHandle } from '../files/lock/lock.ts';
import { readDaemonRecord, type DaemonRecord } from '../project/daemon-record.ts';
import { statePaths } from '../project/state-dir.ts';
import type { DaemonInfo } from '../project/status.ts';
import { openSqliteStore } from '../stores/sqlite/sqlite-store.ts';
import type { Durability } from '../stores/store.ts';
import { createApi, type Transport } from './api.ts';
import { ensureHmacSecret } from '../project/hmac-key.ts';
import { Authenticator } from './auth.ts';
import { fileOperations } from './file-ops.ts';
import { gitOperations } from './git-ops.ts';
import { idempotentOperations } from './idempotent-ops.ts';
import { createLogger, type Logger } from './log.ts';
import { pathPatternFor } from '../engine/paths.ts';
import { Worktrees } from './worktrees.ts';
import { collectWhenIdle } from './idle-gc.ts';
import { WatcherLane } from './watcher-events.ts';
import { GroupWriter } from './writer.ts';

export interface DaemonOptions {
  stateDir: string;
  /** The project root files are confined to. */
  root: string;
  version: string;
  /** Also listen on TCP (every request authenticated). */
  listen?: { host: string; port: number };
  /** Serve the unix socket (or named pipe). Default true. */
  socket?: boolean;
  durability?: Durability;
  /** Copy the log lines to stdout. */
  foreground?: boolean;
  /** Writes queued at most before new ones get 429. Default 4096. */
  maxQueue?: number;
  /** A request body larger than this gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Connections open at once at most (per listener); more are refused. Default 1024. */
  maxConnections?: number;
  /** A request must arrive whole (headers and body) within this; slower ones get 408. Default 30 s. */
  requestTimeoutMs?: number;
  /** Exit after this long with no connection (auto-started daemons). Default: never. */
  idleExitMs?: number;
  /** Watch the project tree for changes made outside baton (fs.changed events). Default true. */
  watch?: boolean;
  sweepIntervalMs?: number;
  /**
   * Check every answer against its operation's result schema, and answer 500
   * INTERNAL when one does not fit (the test suite turns this on; it costs a
   * parse per answer). Default: BATON_CHECK_RESPONSES=1 in the environment.
   */
  checkResponses?: boolean;
}

export interface Daemon {
  readonly record: DaemonRecord;
  readonly engine: Engine;
  /** Resolves when the daemon has stopped. */
  readonly stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
}

/** A unix socket path must fit in sun_path (about 104 bytes): long state paths use a short one in the temp dir. */
export function socketPathFor(stateDir: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\baton-${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}`;
  const preferred = statePaths(stateDir).socket;
  if (Buffer.byteLength(preferred) <= 100) return preferred;
  const dir = join(tmpdir(), `baton-${process.getuid?.() ?? 'user'}`);
  makeDirectories(dir, 0o700);
  return join(dir, `${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}.sock`);
}

function listen(server: Server, target: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Limits must be whole, positive numbers: a typo must not turn a limit off or make every request fail. */
function checkLimits(options: DaemonOptions): void {
  const whole = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new BatonError('INVALID_ARGUMENT', `${name} must be a whole number >= ${min}, got ${JSON.stringify(value) ?? String(value)}`);
    }
  };
  whole('maxQueue', options.maxQueue, 1);
  whole('maxBodyBytes', options.maxBodyBytes, 1024);
  whole('maxConnections', options.maxConnections, 1);
  whole('requestTimeoutMs', options.requestTimeoutMs, 1);
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  checkLimits(options);
  const paths = statePaths(options.stateDir);
  makeDirectories(options.stateDir, 0o700);
  makeDirectories(paths.logs, 0o700);
  const log: Logger = createLogger({ file: join(paths.logs, `daemon-${process.pid}.log`), stdout: options.foreground === true });

  // One daemon per state directory: the file lock dies with its holder, so a kill -9 leaves nothing to clean by hand.
  const locked = await acquireLock(statePaths(options.stateDir).daemonLock, { timeout: 0 });
  if (!locked.success) {
    await log.close();
    const other = readDaemonRecord(options.stateDir);
    throw new BatonError('LOCKED', `a daemon already serves ${options.stateDir}${other ? ` (pid ${other.pid}, ${other.socket ?? other.listen})` : ''}`);
  }
  const lock: LockHandle = locked.handle;

  let writes, reads;
  try {
    writes = await openSqliteStore(paths.database, options.durability === undefined ? {} : { durability: options.durability });
    reads = await openSqliteStore(paths.database);
  } catch (error) {
    await lock.release();
    await log.close();
    throw error;
  }
  const writer = new GroupWriter(writes, reads, { ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }) });
  const engine = new Engine(writer, options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs });
  await engine.sweepIfDue();

  const worktrees = new Worktrees(options.root, { ignore: [options.stateDir] });
  let stopping = false;
  const servers: Server[] = [];
  const startedAt = Date.now();
  let lastActivity = performance.now();
  let connections = 0;
  // When requests stop: sync the database (commits so far survive a power loss too) and collect the heap.
  const collector = collectWhenIdle(() => lastActivity, { onIdle: () => writes.syncToDisk() });

  const record: DaemonRecord = {
    pid: process.pid,
    version: options.version,
    startedAt,
    stateDir: options.stateDir,
    root: options.root,
    socket: options.socket === false ? null : socketPathFor(options.stateDir),
    listen: null,
  };

  const limits = { maxBodyBytes: options.maxBodyBytes ?? 1 << 20, maxConnections: options.maxConnections ?? 1024, requestTimeoutMs: options.requestTimeoutMs ?? 30_000 };
  const api = createApi({
    coordinator: engine,
    version: options.version,
    log,
    maxBodyBytes: limits.maxBodyBytes,
    checkResponses: options.checkResponses ?? process.env.BATON_CHECK_RESPONSES === '1',
    overloaded: () => writer.full,
    stopping: () => stopping,
    lastEventSeq: () => writer.read(lastEventSeq),
    daemonOperations: idempotentOperations(writer, { ...fileOperations(engine, worktrees), ...gitOperations(engine, worktrees) }),
    daemonInfo: (): DaemonInfo => ({
      pid: process.pid,
      version: options.version,
      startedAt,
      socket: record.socket,
      listen: record.listen,
      connections,
      writer: { ...writer.stats(), maxQueue: writer.maxQueue },
      rssBytes: process.memoryUsage.rss(),
      durability: writes.durability,
      limits,
    }),
  });

  function serverFor(transport: Transport): Server {
    const requestTimeout = limits.requestTimeoutMs;
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): a short limit needs a shorter interval to mean anything.
    const server = createServer({ requestTimeout, headersTimeout: Math.min(10_000, requestTimeout), connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))), keepAliveTimeout: 60_000 }, (req: IncomingMessage, res: ServerResponse) => {
      lastActivity = performance.now();
      collector.touch();
      if (stopping) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
        res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the daemon is stopping; retry shortly' } }));
        return;
      }
      api(req, res, transport);
    });
    server.maxConnections = limits.maxConnections;
    server.on('connection', (socket) => {
      connections++;
      lastActivity = performance.now();
      socket.on('close', () => {
        connections--;
        lastActivity = performance.now();
      });
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      if (socket.writable) socket.end(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
    servers.push(server);
    return server;
  }

  try {
    if (record.socket !== null) {
      // We hold the daemon lock, so a socket file left here is a dead daemon's.
      if (process.platform !== 'win32' && existsSync(record.socket)) unlinkSync(record.socket);
      const previous = process.umask(0o177);
      try {
        await listen(serverFor({ kind: process.platform === 'win32' ? 'pipe' : 'unix' }), record.socket);
      } finally {
        process.umask(previous);
      }
    }
    if (options.listen !== undefined) {
      const authenticator = new Authenticator({ stateDir: options.stateDir });
      await ensureHmacSecret(options.stateDir);
      const server = serverFor({
        kind: 'tcp',
        authenticateHeaders: async (request) => (await authenticator.authenticateHeaders(request)) !== undefined,
        authenticate: (request) => authenticator.authenticate(request),
      });
      await listen(server, options.listen);
      const address = server.address();
      record.listen = typeof address === 'object' && address !== null ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : null;
    }
  } catch (error) {
    for (const server of servers) server.close();
    await engine.close();
    await lock.release();
    await log.close();
    throw new BatonError('IO_ERROR', `cannot listen on ${record.socket ?? ''}${options.listen ? ` ${options.listen.host}:${options.listen.port}` : ''}: ${(error as Error).message}`, { cause: error });
  }
  await writeJsonAtomic(paths.daemon, record, { mode: 0o600 });

  const watched = new WatcherLane(
    (report) =>
      report.kind === 'overflow'
        ? engine.publish({ type: 'fs.changed', key: 'path:**', actor: null, data: { path: null, kind: 'overflow', dropped: report.dropped, source: 'watcher', worktree: report.worktree } })
        : engine.publish({ type: 'fs.changed', key: `path:${pathPatternFor(report.path)}`, actor: null, data: { path: report.path, kind: report.kind, source: 'watcher', worktree: report.worktree } }),
    { writerBusy: () => writer.queued * 2 >= writer.maxQueue },
  );
  if (options.watch !== false) {
    worktrees.watchAll(({ root, files }) =>
      files.watch(
        (change) => watched.push({ ...change, worktree: root }),
        { onError: (error) => log.warn('file watcher', { worktree: root, error: error.message }) },
      ),
    );
  }

  let idleTimer: NodeJS.Timeout | undefined;
  if (options.idleExitMs !== undefined && options.idleExitMs > 0) {
    const idleMs = options.idleExitMs;
    idleTimer = setInterval(() => {
      if (connections === 0 && performance.now() - lastActivity > idleMs) void stop('idle');
    }, Math.min(idleMs, 5_000));
    idleTimer.unref();
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let stopping_: Promise<void> | undefined;

  function stop(reason = 'stopped'): Promise<void> {
    stopping_ ??= (async () => {
      stopping = true;
      log.info('daemon stopping', { reason });
      clearInterval(idleTimer);
      collector.stop();
      worktrees.close();
      watched.close();
      for (const server of servers) server.close();
      // Let requests in flight finish (their writes are queued), then drop idle and streaming connections.
      await writer.drain();
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const server of servers) server.closeAllConnections();
      await engine.close();
      if (record.socket !== null && process.platform !== 'win32') rmSync(record.socket, { force: true });
      if (readDaemonRecord(options.stateDir)?.pid === process.pid) rmSync(paths.daemon, { force: true });
      await lock.release();
      log.info('daemon stopped', { reason });
      await log.close();
      resolveStopped();
    })();
    return stopping_;
  }

  log.info('daemon started', { ...record });
  return { record, engine, stopped, stop };
}
