// baton serve: run the project's daemon in this process (or --detach it).
import { detachDaemon } from '../client/open.ts';
import { checkProjectName } from '../project/project-name.ts';
import { BatonError } from '../errors.ts';
import { mcpRoute } from '../mcp/route.ts';
import { locateProject } from '../project/state-dir.ts';
import { daemonAddress, type DaemonRecord } from '../project/daemon-record.ts';
import { packageVersion } from '../project/version.ts';
import type { Daemon } from '../server/daemon.ts';
import { ExitCode, durationMs, integer, millis, parse, seconds, UsageError, type Command } from './command.ts';
import { printJson } from './output.ts';
import { stateDirOption } from './state-dir.ts';

const usage = 'baton serve [--listen <host:port>] [--no-socket] [--foreground] [--detach] [--state-dir <dir>] [--durability normal|full] [--store <url>] [--pool-size <n>] [--poll-only] [--node-ttl <s>] [--max-queue <n>] [--max-body <bytes>] [--max-connections <n>] [--request-timeout <s>] [--idle-exit <s>] [--drain-grace <s>] [--webhooks-allow-private] [--webhook-retries <d,d,...>] [--config <path>] [--metrics on|off] [--metrics-listen <host:port>] [--access-log on|off] [--otel]';

const help = `Runs the project's daemon: the coordination engine over HTTP + JSON on a unix socket in the
state directory (0600; a named pipe on Windows), and on TCP with --listen (every request
authenticated: 'baton auth token create', or an HMAC signature with the state directory's hmac.key).
Every baton command and client of this project then goes through it: waiters are woken on
release, a dropped client's session ends at once, events are pushed. SIGTERM or Ctrl-C drains
the write queue and stops cleanly. Logs: <state dir>/logs/daemon-<pid>.log ('baton logs' reads them).

  --listen <host:port>   also serve TCP (port 0 picks one; it is printed)
  --no-socket            no unix socket (TCP only)
  --foreground           print the structured log lines on stdout too
  --detach               start the daemon in the background; once it answers, print its pid, socket and
                         TCP address (with the port it chose) and return
  --state-dir <dir>      the state directory (default: $BATON_HOME, else <git common dir>/baton, else ./.baton)
  --durability <d>       normal (default: survives any process crash) or full (also power loss)
  --store <url>          the database (default $BATON_STORE, else the SQLite file in the state directory):
                         postgres://user:password@host:port/database is one database a daemon on each
                         machine shares; the schema is created or upgraded on start (see baton migrate)
  --project <name>       the name of the store's default project, if it has none yet (default: derived from the
                         repository: its origin remote's owner-repo, else its folder; docs/projects.md)
  --pool-size <n>        PostgreSQL connections this daemon keeps at most (default 4), plus one that listens
                         for the other daemons' commits: keep daemons x (n + 1) under max_connections
  --poll-only            PostgreSQL: no LISTEN connection; learn of other daemons' commits by polling (every
                         0.25 s), for a database behind a transaction-mode pooler, where LISTEN hears nothing
  --node-ttl <s>         when this daemon dies, its clients' sessions end once it has been silent this long,
                         and their leases and claims come back (default 5)
  --max-queue <n>        writes queued at most before new ones get 429 (default 4096)
  --max-body <bytes>     a request body larger than this gets 413 (default 1048576, at least 1024)
  --max-connections <n>  connections open at once at most, per listener (default 1024)
  --request-timeout <s>  a request must arrive whole within this, else 408 (default 30)
  --idle-exit <s>        stop after this many seconds with no client connected (default: never)
  --drain-grace <s>      on SIGTERM, first answer GET /readyz 503 for this long while still serving, so a load
                         balancer stops sending before the listeners close (default 0)
  --webhooks-allow-private  deliver webhooks added with --allow-private to loopback, private and link-local
                         hosts (refused by default: docs/webhooks.md)
  --webhook-retries <d,d,...>  the waits before each retry of a failed webhook delivery (default
                         5s,5m,30m,2h,5h,10h,10h); after the last, it is given up
  --metrics on|off       Prometheus metrics at GET /metrics, with the API's credentials on TCP (default on;
                         docs/observability.md lists them)
  --metrics-listen <host:port>  also serve GET /metrics on a listener of its own, without credentials, for a
                         scraper (bind it to loopback or a network only the scraper reaches)
  --access-log on|off    one log line per request: request id, operation, session, outcome, status, ms (default on)
  --otel                 send a trace span per request with OpenTelemetry's OTLP exporter, configured by the
                         OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318); needs
                         npm install @opentelemetry/api @opentelemetry/sdk-node
  --config <path>        the configuration file (default: $BATON_CONFIG, else baton.toml at the project root):
                         budgets, rate limits, retry, retention, these limits, auth settings (docs/config.md).
                         Flags win over the BATON_* variables, which win over the file. A bad file stops the
                         start (file:line: reason); a bad edit while running is logged and the last good stays
  --json                 print the daemon record as JSON

Exit status: 0 stopped cleanly, or with --detach started; 75 a daemon already serves this state
directory (the message names its pid and address; --detach starts none); 2 bad usage; 1 any other
error (cannot listen; with --detach, the daemon exited, saying why, or did not answer within 10 s).
`;

function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  if (match === null) throw new UsageError(`${flag} must be host:port (e.g. 127.0.0.1:7430), got ${JSON.stringify(value)}`);
  const port = Number(match[3]);
  if (port > 65535) throw new UsageError(`${flag} port must be 0 to 65535, got ${port}`);
  return { host: match[1] ?? match[2]!, port };
}

/** The refusal when a daemon already serves the state directory: LOCKED, so exit 75 (its daemon lock is held). */
function alreadyServing(stateDir: string, record: DaemonRecord): BatonError {
  return new BatonError('LOCKED', `a daemon already serves ${stateDir} (pid ${record.pid}, ${daemonAddress(record)})`, { details: { ...record } });
}

export const serveCommand: Command = {
  name: 'serve',
  summary: "run the project's daemon (unix socket; TCP with --listen)",
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        listen: { type: 'string' },
        'no-socket': { type: 'boolean' },
        foreground: { type: 'boolean' },
        detach: { type: 'boolean' },
        'state-dir': { type: 'string' },
        durability: { type: 'string' },
        store: { type: 'string' },
        project: { type: 'string' },
        'pool-size': { type: 'string' },
        'poll-only': { type: 'boolean' },
        'node-ttl': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-body': { type: 'string' },
        'max-connections': { type: 'string' },
        'request-timeout': { type: 'string' },
        'idle-exit': { type: 'string' },
        'drain-grace': { type: 'string' },
        'webhooks-allow-private': { type: 'boolean' },
        'webhook-retries': { type: 'string' },
        config: { type: 'string' },
        metrics: { type: 'string' },
        'metrics-listen': { type: 'string' },
        'access-log': { type: 'string' },
        otel: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n\n${help}`);
      return ExitCode.ok;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\nusage: ${usage}`);
    const location = locateProject();
    const stateDir = stateDirOption(values['state-dir']).path;
    const durability = values.durability;
    if (durability !== undefined && durability !== 'normal' && durability !== 'full') throw new UsageError(`--durability must be normal or full, got ${JSON.stringify(durability)}`);
    const listen = values.listen === undefined ? undefined : parseListen(values.listen);
    const store = values.store ?? (process.env.BATON_STORE || undefined);
    if (store !== undefined && !/^(postgres|postgresql):\/\/|^sqlite:./.test(store)) {
      throw new UsageError(`--store must be postgres://user:password@host:port/database or sqlite:<path>, got ${JSON.stringify(store.replace(/\/\/[^@/]*@/, '//***@'))}`);
    }
    const poolSize = integer('--pool-size', values['pool-size'], { min: 1 });
    const nodeTtlMs = millis('--node-ttl', values['node-ttl'], true);
    if (nodeTtlMs !== undefined && nodeTtlMs < 300) throw new UsageError(`--node-ttl must be at least 0.3 (seconds), got ${JSON.stringify(values['node-ttl'])}`);
    const maxQueue = integer('--max-queue', values['max-queue'], { min: 1 });
    const maxBodyBytes = integer('--max-body', values['max-body'], { min: 1024 });
    const maxConnections = integer('--max-connections', values['max-connections'], { min: 1 });
    const requestTimeoutMs = millis('--request-timeout', values['request-timeout'], true);
    const idleExitMs = seconds('--idle-exit', values['idle-exit'], true);
    const drainGraceMs = millis('--drain-grace', values['drain-grace']);
    const retryScheduleMs = values['webhook-retries']?.split(',').map((d) => durationMs('--webhook-retries', d, true)!);
    // baton.toml and the variables over it, checked before anything starts: a bad file stops here, naming its line.
    const { loadDaemonConfig } = await import('../config/daemon-options.ts');
    const configured = await loadDaemonConfig(location.root, values.config);
    const onOff = (name: string, value: string | undefined): boolean | undefined => {
      if (value === undefined || value === 'on' || value === 'off') return value === undefined ? undefined : value === 'on';
      throw new UsageError(`--${name} must be on or off, got ${JSON.stringify(value)}`);
    };
    const metrics = onOff('metrics', values.metrics);
    const accessLog = onOff('access-log', values['access-log']);
    const metricsListen = values['metrics-listen'] === undefined ? undefined : parseListen(values['metrics-listen'], '--metrics-listen');
    if (metricsListen !== undefined && metrics === false) throw new UsageError('--metrics-listen needs the metrics on (drop --metrics off)');
    if (values['no-socket'] && listen === undefined) throw new UsageError('--no-socket needs --listen: the daemon must listen somewhere');
    if (values.detach) {
      // --detach waits for the daemon on its unix socket, and its log has no terminal to print to.
      if (values['no-socket']) throw new UsageError('--detach needs the unix socket (drop --no-socket): it waits for the daemon to answer there');
      if (values.foreground) throw new UsageError('--detach and --foreground cannot be used together: a detached daemon has no terminal (its log is in <state dir>/logs)');
      // The detached daemon gets every option given here (not --detach, --json or --idle-exit, passed on their own).
      const forwarded = ['listen', 'durability', 'pool-size', 'node-ttl', 'max-queue', 'max-body', 'max-connections', 'request-timeout', 'drain-grace', 'webhook-retries', 'config', 'metrics', 'metrics-listen', 'access-log'] as const;
      const serveArgs = [...forwarded.flatMap((name) => (values[name] === undefined ? [] : [`--${name}`, values[name]])), ...(values['poll-only'] ? ['--poll-only'] : []), ...(values['webhooks-allow-private'] ? ['--webhooks-allow-private'] : []), ...(values.otel ? ['--otel'] : [])];
      // The store's url (with its password) goes in the environment: any user's ps shows a process's arguments.
      const env: Record<string, string> = store === undefined ? {} : { BATON_STORE: store };
      const { record, started } = await detachDaemon(stateDir, { idleExitSeconds: idleExitMs === undefined ? 0 : idleExitMs / 1000, serveArgs, env });
      // Like a second foreground serve (the daemon lock is held): exit 75, never "serving" as if started.
      if (!started) throw alreadyServing(stateDir, record);
      if (values.json) printJson(record);
      else process.stdout.write(`baton daemon ${record.pid} serving ${stateDir} on ${daemonAddress(record)}\n`);
      return ExitCode.ok;
    }
    // Listening before the daemon starts: a SIGTERM during start-up (or right after its first log
    // line) must stop it cleanly, not kill it with the signal's default action.
    let daemon: Daemon | undefined;
    let stopWith: string | undefined;
    const onSignal = (signal: string): void => {
      if (daemon === undefined) stopWith ??= signal;
      else void daemon.stop(signal);
    };
    const onTerm = (): void => onSignal('SIGTERM');
    const onInt = (): void => onSignal('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    let otel: { shutdown(): Promise<void> } | undefined;
    try {
      // Before the daemon starts: it looks for a registered tracer provider once, as it starts.
      if (values.otel) otel = await (await import('../server/tracing.ts')).startOtel(packageVersion());
      // Loaded here: every other command starts without the daemon's code (and the schemas it checks with).
      const { startDaemon } = await import('../server/daemon.ts');
      daemon = await startDaemon({
        stateDir,
        root: location.root,
        version: packageVersion(),
        ...(listen === undefined ? {} : { listen }),
        socket: values['no-socket'] !== true,
        // The file's settings (the environment over them); the flags after them win.
        ...configured.settings,
        config: configured.config,
        ...(durability === undefined ? {} : { durability }),
        ...(store === undefined ? {} : { store }),
        ...(values.project === undefined ? {} : { project: checkProjectName(values.project, '--project') }),
        ...(poolSize === undefined ? {} : { poolSize }),
        ...(values['poll-only'] ? { pollOnly: true } : {}),
        ...(nodeTtlMs === undefined ? {} : { nodeTtlMs }),
        foreground: values.foreground === true,
        ...(maxQueue === undefined ? {} : { maxQueue }),
        ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
        ...(maxConnections === undefined ? {} : { maxConnections }),
        ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
        ...(idleExitMs === undefined ? {} : { idleExitMs }),
        ...(drainGraceMs === undefined ? {} : { drainGraceMs }),
        webhooks: { allowPrivate: values['webhooks-allow-private'] === true, ...(retryScheduleMs === undefined ? {} : { retryScheduleMs }) },
        ...(metrics === undefined ? {} : { metrics }),
        ...(metricsListen === undefined ? {} : { metricsListen }),
        ...(accessLog === undefined ? {} : { accessLog }),
        // The MCP tools over streamable HTTP for remote agents (the SDK loads on the first request).
        routes: { '/v1/mcp': mcpRoute },
      });
    } catch (error) {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      await otel?.shutdown();
      throw error;
    }
    if (stopWith !== undefined) void daemon.stop(stopWith);
    if (values.json) printJson(daemon.record);
    else if (!values.foreground) process.stdout.write(`baton daemon ${process.pid} serving ${stateDir} on ${daemonAddress(daemon.record)}\n`);
    await daemon.stopped;
    // The spans still batched are sent before the process exits.
    await otel?.shutdown();
    return ExitCode.ok;
  },
};
