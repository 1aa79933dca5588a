// `baton serve`: one daemon per state directory. It owns the database through
// a single group-committing writer, listens on a unix socket (0600, in the
// 0700 state directory), a Windows named pipe, or TCP with authentication,
// and stops cleanly on SIGTERM: the queue is drained, nothing acknowledged is
// lost, and sessions survive a restart (their clients re-attach).
//
// Starting is a few steps, each pushing what it makes onto one stack with its
// cleanup; a start that fails and a stop both unwind that stack, last made
// first: timers, watchers, listeners, the caller's routes, the engine, the
// socket and record, the lock, the log.
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { runConfig, type DaemonConfig } from '../config/watch.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { lastEventSeq } from '../engine/events.ts';
import { pathPatternFor } from '../engine/paths.ts';
import { BatonError } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS } from '../limits.ts';
import { writeJsonAtomic } from '../files/atomic-write.ts';
import { makeDirectories } from '../files/directories.ts';
import { acquireLock, type LockHandle } from '../files/lock/lock.ts';
import { readDaemonRecord, type DaemonRecord } from '../project/daemon-record.ts';
import { ensureStateDir, statePaths } from '../project/state-dir.ts';
import type { DaemonInfo } from '../project/status.ts';
import type { Durability } from '../stores/store.ts';
import { createApi, type Transport } from './api.ts';
import { openEngine, runNode, type Held } from './daemon-engine.ts';
import { Authenticator, credentialOf } from './auth.ts';
import { Dashboard } from './dashboard/dashboard.ts';
import { setSecurityHeaders } from './dashboard/guard.ts';
import { fileOperations } from './file-ops.ts';
import { gitOperations } from './git-ops.ts';
import { LIVENESS, answerHealth, drainingCheck, healthRoute, writerCheck, type HealthCheck } from './health.ts';
import { idempotentOperations } from './idempotent-ops.ts';
import { collectWhenIdle } from './idle-gc.ts';
import { openListeners, socketPathFor, type Activity, type OpenLoopback } from './listeners.ts';
import { pause } from '../files/pause.ts';
import { createLogger, pruneOldLogs, type Logger } from './log.ts';
import type { DaemonRoute, OpenRoute, RouteContext } from './routes.ts';
import { DaemonMetrics } from './metrics.ts';
import { listenForMetrics } from './metrics-listener.ts';
import { RequestTelemetry } from './request-telemetry.ts';
import { openTracing } from './tracing.ts';
import { WatcherLane } from './watcher-events.ts';
import { ViolationCheck } from './violations.ts';
import { Worktrees } from './worktrees.ts';
import { Projects } from './projects.ts';
import { deriveProjectName } from '../project/project-name.ts';
import { webhookOperations } from './webhooks/operations.ts';
import { WebhookWorker } from './webhooks/worker.ts';
import { GroupWriter } from './writer.ts';

/** A write queued this long (or the node TTL, if longer) means a stuck writer: /readyz fails. */
const WRITER_STUCK_MS = 10_000;

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
  /**
   * The database: default the SQLite file in the state directory; or
   * `postgres://user:password@host:port/database`, one database that a
   * daemon on each machine shares (each daemon is a node: see nodeTtlMs).
   */
  store?: string;
  /** PostgreSQL: connections this daemon keeps at most (default 4), plus one that listens. */
  poolSize?: number;
  /** PostgreSQL: no LISTEN; waiters poll for other daemons' commits (behind a transaction-mode pooler). */
  pollOnly?: boolean;
  /**
   * When this daemon dies, the sessions of the clients attached to it end
   * once it has not heartbeat its node for this long (default 5000 ms), and
   * their leases and claims come back. It heartbeats every third of it.
   */
  nodeTtlMs?: number;
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
  /** On stop, answer /readyz 503 for this long while still serving, before the listeners close (a balancer's grace). Default 0. */
  drainGraceMs?: number;
  /** Watch the project tree for changes made outside baton (fs.changed events). Default true. */
  watch?: boolean;
  sweepIntervalMs?: number;
  /** Webhook delivery (docs/webhooks.md): private targets allowed for endpoints that ask (--webhooks-allow-private); the retry waits. */
  webhooks?: { allowPrivate?: boolean; retryScheduleMs?: number[] };
  /**
   * Check every answer against its operation's result schema, and answer 500
   * INTERNAL when one does not fit (the test suite turns this on; it costs a
   * parse per answer). Default: BATON_CHECK_RESPONSES=1 in the environment.
   */
  checkResponses?: boolean;
  /**
   * The home project's name when the database has none yet (a new store, or one
   * made before projects): default, the name derived from the repository at
   * `root` (src/project/project-name.ts). A store that has one keeps it.
   */
  project?: string;
  /** Routes mounted beside the API, by path (`baton serve` gives /v1/mcp); each is closed when the daemon stops. */
  routes?: Record<string, OpenRoute>;
  /** baton.toml: applied once the engine is up, and again whenever it changes (src/config/watch.ts). */
  config?: DaemonConfig;
  /** The engine's event retention and retry backoff (baton.toml's [retention] and [retry]). */
  engine?: Pick<EngineOptions, 'retention' | 'retry'>;
  /** Prometheus metrics at GET /metrics (docs/observability.md). Default true. */
  metrics?: boolean;
  /** Also serve GET /metrics, without credentials, on this listener of its own (for a scraper). */
  metricsListen?: { host: string; port: number };
  /** One log line per request. Default true. */
  accessLog?: boolean;
}

export interface Daemon {
  readonly record: DaemonRecord;
  readonly engine: Engine;
  /** Resolves when the daemon has stopped. */
  readonly stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
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
  whole('poolSize', options.poolSize, 1);
  whole('nodeTtlMs', options.nodeTtlMs, 300);
}

/** One daemon per state directory: the file lock dies with its holder, so a kill -9 leaves nothing to clean by hand. */
async function lockStateDir(held: Held, stateDir: string): Promise<void> {
  const locked = await acquireLock(statePaths(stateDir).daemonLock, { timeout: 0 });
  if (!locked.success) {
    const other = readDaemonRecord(stateDir);
    throw new BatonError('LOCKED', `a daemon already serves ${stateDir}${other ? ` (pid ${other.pid}, ${other.socket ?? other.listen})` : ''}`);
  }
  const lock: LockHandle = locked.handle;
  held.defer(() => lock.release());
}

/** The routes the caller gave, each made with the daemon's context and closed when it stops. */
function openRoutes(held: Held, routes: Record<string, OpenRoute>, ctx: RouteContext): Map<string, DaemonRoute> {
  const mounted = new Map<string, DaemonRoute>();
  for (const [path, open] of Object.entries(routes)) {
    const route = open(ctx);
    held.defer(() => route.close());
    mounted.set(path, route);
  }
  return mounted;
}

/** fs.changed events for changes made outside baton, in every worktree the daemon serves. */
function watchWorktrees(held: Held, worktrees: Worktrees, engine: Engine, writer: GroupWriter, log: Logger, metrics: DaemonMetrics | undefined): void {
  // A change under an exclusive path lease is also a reservation violation (violations.ts).
  const violations = new ViolationCheck(engine, { log });
  held.defer(() => violations.close());
  const watched = new WatcherLane(
    (report) =>
      report.kind === 'overflow'
        ? (metrics?.watcherOverflowed(report.dropped), engine.publish({ type: 'fs.changed', key: 'path:**', actor: null, data: { path: null, kind: 'overflow', dropped: report.dropped, source: 'watcher', worktree: report.worktree } }))
        : engine.publish({ type: 'fs.changed', key: `path:${pathPatternFor(report.path)}`, actor: null, data: { path: report.path, kind: report.kind, source: 'watcher', worktree: report.worktree } }).then((event) => violations.check(report, event.seq)),
    { writerBusy: () => writer.queued * 2 >= writer.maxQueue },
  );
  held.defer(() => watched.close());
  held.defer(() => worktrees.close());
  worktrees.watchAll(({ root, files }) =>
    files.watch(
      (change) => watched.push({ ...change, worktree: root }),
      { onError: (error) => log.warn('file watcher', { worktree: root, error: error.message }) },
    ),
  );
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  checkLimits(options);
  const paths = statePaths(options.stateDir);
  ensureStateDir(options.stateDir); // 0700, and hidden from git if it sits in a working tree
  makeDirectories(paths.logs, 0o700);
  pruneOldLogs(paths.logs, process.pid);
  const held: Held = new AsyncDisposableStack();
  const log: Logger = createLogger({ file: join(paths.logs, `daemon-${process.pid}.log`), stdout: options.foreground === true });
  let stopReason: string | undefined;
  held.defer(async () => {
    if (stopReason !== undefined) log.info('daemon stopped', { reason: stopReason });
    await log.close();
  });

  try {
    await lockStateDir(held, options.stateDir);
    const socket = options.socket === false ? null : socketPathFor(options.stateDir);
    // Pushed before the engine, so the socket and the record go after it closes, as the last thing before the lock.
    held.defer(() => {
      if (socket !== null && process.platform !== 'win32') rmSync(socket, { force: true });
      if (readDaemonRecord(options.stateDir)?.pid === process.pid) rmSync(paths.daemon, { force: true });
    });
    const opened = await openEngine(held, options);
    const { info, writer, engine } = opened;
    const node = await runNode(held, engine, options, log);
    // Closed before the engine: sends in flight are cut short, unrecorded, and sent again by the next daemon.
    const webhookOptions = { allowPrivate: options.webhooks?.allowPrivate === true, ...(options.webhooks?.retryScheduleMs === undefined ? {} : { schedule: options.webhooks.retryScheduleMs }) };
    const webhooks = new WebhookWorker({ ...webhookOptions, store: writer, nodeId: node.id, log });
    webhooks.start();
    held.defer(() => webhooks.close());
    const worktrees = new Worktrees(options.root, { ignore: [options.stateDir] });
    // The home project is this database; others are opened on their first request, and closed before it (projects.ts).
    const projects = await Projects.start(opened, { engine: options, log, webhooks: webhookOptions, homeName: options.project === undefined ? deriveProjectName(options.root) : { name: options.project, from: 'named' } }, (projectOperations) => ({
      coordinator: engine,
      daemonOperations: idempotentOperations(writer, { ...fileOperations(engine, worktrees), ...gitOperations(engine, worktrees), ...webhookOperations(writer, webhooks), ...projectOperations }),
      overloaded: () => writer.full,
      lastEventSeq: () => writer.read(lastEventSeq),
      bindSession: async (sessionId) => void (await engine.bindSession(sessionId, node.id)),
    }));
    held.defer(() => projects.close());
    // Budgets and rate limits from baton.toml are in place before the first client is served.
    if (options.config !== undefined) {
      const watching = await runConfig(options.config, { coordinator: engine, stateDir: options.stateDir, log });
      held.defer(() => watching.close());
    }

    const record: DaemonRecord = { pid: process.pid, version: options.version, startedAt: Date.now(), stateDir: options.stateDir, root: options.root, socket, listen: null };
    const activity: Activity = { stopping: false, lastActivity: performance.now(), connections: 0 };
    /** Stopping within its drain grace: /readyz fails, requests are still served. */
    let draining = false;
    // When requests stop: sync the database (commits so far survive a power loss too) and collect the heap.
    const collector = collectWhenIdle(() => activity.lastActivity, { onIdle: () => info.syncToDisk() });
    held.defer(() => collector.stop());
    // prom-client loads only with metrics on; tracing only when a tracer provider is registered (checked once, here).
    const metrics = options.metrics === false ? undefined : await DaemonMetrics.open({ coordinator: engine, writer, connections: () => activity.connections, version: options.version });
    if (metrics !== undefined) writer.onBatch = (size) => metrics.batchCommitted(size);
    const telemetry = new RequestTelemetry({ log, accessLog: options.accessLog !== false, metrics, tracing: await openTracing(options.version), mounted: new Set(Object.keys(options.routes ?? {})) });
    held.defer(() => telemetry.close());

    // The store is ready while a heartbeat (a write through the writer) succeeded within the node TTL.
    const readiness = (): HealthCheck[] => [
      drainingCheck(draining || activity.stopping),
      node.probe.check(node.ttlMs),
      writerCheck(writer.oldestWaitMs(), writer.queued, Math.max(WRITER_STUCK_MS, node.ttlMs)),
    ];
    const checksOf = (which: 'livez' | 'readyz'): HealthCheck[] => (which === 'livez' ? LIVENESS : readiness());
    const limits = { maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS };
    const context: RouteContext = {
      coordinator: engine,
      version: options.version,
      log,
      daemonOperations: projects.home.daemonOperations,
      daemonInfo: (): DaemonInfo => ({
        pid: process.pid,
        version: options.version,
        startedAt: record.startedAt,
        socket: record.socket,
        listen: record.listen,
        connections: activity.connections,
        writer: { ...writer.stats(), maxQueue: writer.maxQueue },
        rssBytes: process.memoryUsage.rss(),
        durability: info.durability,
        store: { kind: info.kind, where: info.where },
        node: { id: node.id, ttlMs: node.ttlMs },
        limits,
        readiness: readiness(),
      }),
    };
    let openLoopback: OpenLoopback | undefined;
    const tokens = new Authenticator({ stateDir: options.stateDir });
    const dashboard = new Dashboard({
      stateDir: options.stateDir,
      log,
      tcpListener: () => record.listen,
      openLoopback: (port) => (openLoopback === undefined ? Promise.reject(new BatonError('UNAVAILABLE', 'the daemon is starting')) : openLoopback(port)),
      principalAlive: (principal) => tokens.credentialLive(principal),
    });
    const api = createApi({
      ...context,
      dashboard,
      health: checksOf,
      maxBodyBytes: limits.maxBodyBytes,
      checkResponses: options.checkResponses ?? process.env.BATON_CHECK_RESPONSES === '1',
      overloaded: () => writer.full,
      credentialLive: (who) => tokens.credentialLive(credentialOf(who)) && (!who.principal.startsWith('ui:') || dashboard.sessionAlive(who.principal)),
      stopping: () => activity.stopping,
      lastEventSeq: projects.home.lastEventSeq,
      bindSession: projects.home.bindSession,
      projects,
      routes: openRoutes(held, options.routes ?? {}, context),
      telemetry,
    });
    const serve = (req: IncomingMessage, res: ServerResponse, transport: Transport): void => {
      // Probes are answered first, without credentials, while draining too; on TCP the reasons (?verbose) need credentials.
      const probe = healthRoute(req);
      if (probe !== undefined && (!probe.verbose || transport.kind !== 'tcp')) {
        return answerHealth(res, probe.which, checksOf(probe.which), probe.verbose);
      }
      activity.lastActivity = performance.now();
      collector.touch();
      if (activity.stopping) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
        res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the daemon is stopping; retry shortly' } }));
        return;
      }
      if (transport.kind === 'tcp') setSecurityHeaders(res);
      api(req, res, transport);
    };
    openLoopback = await openListeners(held, { stateDir: options.stateDir, listen: options.listen, ...limits, authenticateCookie: (req) => dashboard.authenticate(req) }, record, serve, activity, writer);
    await dashboard.restore();
    await writeJsonAtomic(paths.daemon, record, { mode: 0o600 });
    if (options.metricsListen !== undefined && metrics !== undefined) await listenForMetrics(held, options.metricsListen, metrics, log);
    if (options.watch !== false) watchWorktrees(held, worktrees, engine, writer, log, metrics);

    let resolveStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stopped'): Promise<void> =>
      (stopping ??= (async () => {
        draining = true;
        if (options.drainGraceMs !== undefined && options.drainGraceMs > 0) {
          log.info('daemon draining: /readyz answers 503', { reason, graceMs: options.drainGraceMs });
          await pause(options.drainGraceMs);
        }
        activity.stopping = true;
        stopReason = reason;
        log.info('daemon stopping', { reason });
        await held.disposeAsync();
        resolveStopped();
      })());

    if (options.idleExitMs !== undefined && options.idleExitMs > 0) {
      const idleMs = options.idleExitMs;
      const idleTimer = setInterval(() => {
        if (activity.connections === 0 && performance.now() - activity.lastActivity > idleMs) void stop('idle');
      }, Math.min(idleMs, 5_000));
      idleTimer.unref();
      held.defer(() => clearInterval(idleTimer));
    }
    log.info('daemon started', { ...record });
    return { record, engine, stopped, stop };
  } catch (error) {
    await held.disposeAsync();
    throw error;
  }
}
