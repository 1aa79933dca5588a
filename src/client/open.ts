// openCoordinator for applications: an explicit url, or discovery. Discovery
// tries, in order: $BATON_URL; a live daemon of this project (its record in
// the state directory); starting one, detached, where allowed; and last the
// embedded store in the state directory (also when starting a daemon fails).
// Every path returns the same Coordinator interface. Outside any project
// (no git repository, no $BATON_HOME, no .baton) and with no stateDir given,
// discovery refuses (NO_PROJECT) instead of making state there.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Coordinator } from '../coordinator.ts';
import type { OpenOptions as EmbeddedOptions } from '../engine/open.ts';
import { BatonError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import { randomPart } from '../files/unique-name.ts';
import { ensureStateDir, gitToplevel, locateProject, noProjectError, statePaths } from '../project/state-dir.ts';
import { readDaemonRecord, type DaemonRecord } from '../project/daemon-record.ts';
import { readHmacKey } from '../project/hmac-key.ts';
import { checkProjectName } from '../project/project-name.ts';
import type { Endpoint } from './endpoint.ts';
import { RemoteCoordinator, type RemoteOptions } from './remote.ts';
import { HttpTransport } from './transport.ts';

export interface ClientOpenOptions extends Omit<EmbeddedOptions, 'url'>, Omit<RemoteOptions, 'socketPath' | 'host' | 'port'> {
  /** `baton+unix://<socket>`, `http://host:port`, `sqlite:<path>`, `postgres://...`; default: $BATON_URL, then discovery. */
  url?: string;
  /** The project's state directory; default: $BATON_HOME, else <git common dir>/baton, else a .baton at or above cwd. */
  stateDir?: string;
  /** Start a daemon when none runs. Default true unless $BATON_NO_DAEMON is set. */
  autoStart?: boolean;
  /** Never use a daemon: the embedded store only (like the CLI's --no-daemon). */
  noDaemon?: boolean;
  /** Where discovery looks for the project. Default process.cwd(). */
  cwd?: string;
}

function parseUrl(url: string): RemoteOptions | { embedded: string } {
  if (url.startsWith('sqlite:') || url.startsWith('postgres://') || url.startsWith('postgresql://')) return { embedded: url };
  if (url.startsWith('baton+unix://')) {
    const path = decodeURIComponent(url.slice('baton+unix://'.length));
    if (path === '') throw new BatonError('INVALID_ARGUMENT', `the url ${JSON.stringify(url)} names no socket`);
    return { socketPath: path };
  }
  if (url.startsWith('http://')) {
    const parsed = new URL(url);
    const port = Number(parsed.port || 80);
    const token = parsed.searchParams.get('token') ?? undefined;
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port, ...(token === undefined ? {} : { token }) };
  }
  throw new BatonError('INVALID_ARGUMENT', `unsupported coordinator url ${JSON.stringify(url)}; use baton+unix://<socket>, http://host:port, sqlite:<path> or postgres://user:password@host:port/database`);
}

/** True when a daemon answers on the socket within a short time. */
export async function daemonAlive(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return endpointAlive({ socketPath }, timeoutMs);
}

async function endpointAlive(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  // One question: no breaker or bulkhead to set up for it.
  const transport = new HttpTransport({ ...endpoint, breaker: false, bulkhead: false });
  try {
    const health = (await transport.request('/v1/health', { method: 'GET', timeoutMs })) as { ok?: boolean };
    return health?.ok === true;
  } catch {
    return false;
  } finally {
    transport.close();
  }
}

/** The CLI entry next to this file (source .ts when run from source, .js when built). */
function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.replace(/client[\\/]open\.(ts|js)$/, (_m, ext: string) => `cli/main.${ext}`);
}

/** True while some daemon holds this state directory's daemon lock (it runs or is starting). */
async function daemonLockHeld(stateDir: string): Promise<boolean> {
  const { isLocked } = await import('../files/lock/lock.ts');
  return isLocked(statePaths(stateDir).daemonLock).catch(() => false);
}

/** Options for starting `baton serve` in the background. */
export interface StartDaemonOptions {
  cwd?: string;
  /** The daemon stops after this long with no client; 0: never. Default 600. */
  idleExitSeconds?: number;
  /** How long to wait for it to answer. Default 10 s. */
  waitMs?: number;
  /** More `baton serve` options (--listen, --durability, ...). */
  serveArgs?: string[];
  /** More environment for the daemon: a database url goes here ($BATON_STORE), never in its arguments, which ps shows. */
  env?: Record<string, string>;
}

/** A `baton serve` started in the background: its pid, how it ended once it has, where its stderr goes. */
interface Spawned {
  pid: number | undefined;
  exited: string | undefined;
  stderrFile: string;
}

function spawnServe(stateDir: string, options: StartDaemonOptions): Spawned {
  const logs = statePaths(stateDir).logs;
  // The state directory first, as every maker of it does: private, and hidden from git.
  ensureStateDir(stateDir);
  makeDirectories(logs, 0o700);
  const idle = options.idleExitSeconds ?? 600;
  const args = [cliEntry(), 'serve', '--state-dir', stateDir, ...(idle > 0 ? ['--idle-exit', String(idle)] : []), ...(options.serveArgs ?? [])];
  // Its stderr goes to a file, not a pipe (a pipe breaks once we exit): a daemon that cannot start says why there.
  const starting = join(logs, `daemon-starting-${process.pid}-${randomPart(6, 'hex')}.stderr`);
  const stderr = openSync(starting, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { cwd: options.cwd ?? process.cwd(), detached: true, stdio: ['ignore', 'ignore', stderr], env: { ...process.env, ...options.env, BATON_HOME: stateDir } });
  } finally {
    closeSync(stderr);
  }
  // Named after the daemon, beside its log (logs/daemon-<pid>.log), for whatever it prints later.
  const stderrFile = child.pid === undefined ? starting : join(logs, `daemon-${child.pid}.stderr`);
  if (stderrFile !== starting) renameSync(starting, stderrFile);
  const spawned: Spawned = { pid: child.pid, exited: undefined, stderrFile };
  child.once('exit', (code, signal) => {
    spawned.exited = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
    if (code === 75) rmSync(stderrFile, { force: true }); // LOCKED: it only said that another daemon serves
  });
  child.once('error', (error) => (spawned.exited = `could not run: ${error.message}`));
  child.unref();
  return spawned;
}

/** The line that says why, in what a daemon printed on stderr: baton's error line, else an uncaught error's, else the last. */
function reasonIn(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  const line = lines.findLast((l) => l.startsWith('baton: ')) ?? lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.at(-1) ?? '';
  return line.replace(/^baton: /, '');
}

/** Why a started daemon that did not answer ended: its exit and what it printed (removing the file, now said). */
function whyNotStarted(stateDir: string, spawned: Spawned): string {
  let said = '';
  try {
    said = reasonIn(readFileSync(spawned.stderrFile, 'utf8'));
    rmSync(spawned.stderrFile, { force: true });
  } catch {
    // nothing printed, or the file is gone: the exit alone is all there is to say
  }
  return `started a daemon for ${stateDir} but it ${spawned.exited} before it answered${said === '' ? `; see ${statePaths(stateDir).logs}` : `: ${said}`}`;
}

/**
 * Waits for the daemon of `stateDir` to answer with a record `accept` takes,
 * while the one started may still come; throws UNAVAILABLE when it will not.
 */
async function awaitDaemon(stateDir: string, spawned: Spawned, waitMs: number, accept: (record: DaemonRecord) => boolean): Promise<DaemonRecord> {
  const until = performance.now() + waitMs;
  let delay = 5;
  while (performance.now() < until) {
    const record = await liveRecord(stateDir, 500);
    if (record !== undefined && accept(record)) return record;
    // Ours is gone: unless another daemon holds the lock (it won a race to start and will answer), none is coming.
    if (spawned.exited !== undefined && !(await daemonLockHeld(stateDir))) throw new BatonError('UNAVAILABLE', whyNotStarted(stateDir, spawned));
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(100, delay * 2);
  }
  throw new BatonError('UNAVAILABLE', `started a daemon for ${stateDir} but it did not answer within ${waitMs} ms; see ${statePaths(stateDir).logs}`);
}

/** Starts `baton serve` detached for the state dir and waits until a daemon answers there (this one, or one that won a race to start). */
export async function startDaemonProcess(stateDir: string, options: StartDaemonOptions = {}): Promise<string> {
  const spawned = spawnServe(stateDir, options);
  const record = await awaitDaemon(stateDir, spawned, options.waitMs ?? 10_000, (r) => r.socket !== null);
  return record.socket!;
}

/**
 * `baton serve --detach`: starts the daemon unless one already serves
 * `stateDir`, and returns the record of the daemon serving it (its pid, its
 * socket, the TCP port it chose) and whether it is the one started here. Not
 * started here means one already ran, or another start won the race (ours
 * then exits, finding the state directory's daemon lock held).
 */
export async function detachDaemon(stateDir: string, options: StartDaemonOptions = {}): Promise<{ record: DaemonRecord; started: boolean }> {
  const running = await liveRecord(stateDir);
  if (running !== undefined) return { record: running, started: false };
  const spawned = spawnServe(stateDir, options);
  const record = await awaitDaemon(stateDir, spawned, options.waitMs ?? 10_000, (r) => r.pid === spawned.pid || spawned.exited !== undefined);
  return { record, started: record.pid === spawned.pid };
}

/** The record of the daemon serving `stateDir`, if it answers now (on its socket, or signed on TCP). */
async function liveRecord(stateDir: string, timeoutMs = 1000): Promise<DaemonRecord | undefined> {
  const record = readDaemonRecord(stateDir);
  return record !== undefined && (await liveDaemon(stateDir, timeoutMs)) !== undefined ? record : undefined;
}

/** Where `host:port` as the daemon records it (`[v6]:port` too) is reached from this host: a wildcard address means loopback. */
function tcpTarget(listen: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(listen);
  if (match === null) return undefined;
  const host = match[1] === '0.0.0.0' ? '127.0.0.1' : match[1] === '::' ? '::1' : match[1]!;
  return { host, port: Number(match[2]) };
}

/**
 * How to reach the daemon serving `stateDir`, if one answers now: its unix
 * socket, or, for a daemon that listens only on TCP (--no-socket), its address
 * with requests signed by the project's HMAC key (readable by its user only).
 */
async function liveDaemon(stateDir: string, timeoutMs = 1000): Promise<Endpoint | undefined> {
  const record = readDaemonRecord(stateDir);
  if (record === undefined) return undefined;
  if (record.socket) return existsSync(record.socket) && (await daemonAlive(record.socket, timeoutMs)) ? { socketPath: record.socket } : undefined;
  const tcp = record.listen === null ? undefined : tcpTarget(record.listen);
  if (tcp === undefined) return undefined;
  let secret: Uint8Array | undefined;
  try {
    secret = readHmacKey(statePaths(stateDir).hmacKey);
  } catch {
    return undefined; // a damaged key: the daemon cannot be asked, so it is not ours to use
  }
  if (secret === undefined) return undefined;
  // The file, not the bytes: a long-lived client signs with the current key after a rotation.
  const endpoint = { ...tcp, hmacKeyFile: statePaths(stateDir).hmacKey };
  return (await endpointAlive(endpoint, timeoutMs)) ? endpoint : undefined;
}

/** A client of this project's daemon if one runs now (never starts one, never creates anything). */
export async function connectToRunningDaemon(options: { stateDir?: string; cwd?: string } & Omit<RemoteOptions, 'socketPath' | 'host' | 'port'> = {}): Promise<RemoteCoordinator | undefined> {
  const { stateDir, cwd, ...remote } = options;
  const endpoint = await liveDaemon(stateDir ?? locateProject(cwd).stateDir);
  return endpoint === undefined ? undefined : new RemoteCoordinator({ ...remote, ...endpoint });
}

/** The embedded engine is loaded only when it is used: a client of a daemon never needs node:sqlite. */
async function openEmbedded(options: EmbeddedOptions, project: string | undefined): Promise<Coordinator> {
  // Projects are a daemon's (docs/projects.md): the embedded store is one project's, and which that is only the daemon records.
  if (project !== undefined) {
    throw new BatonError('INVALID_ARGUMENT', `project ${project} needs a daemon: the embedded store (${options.url.replace(/\/\/[^@/]*@/, '//***@')}) serves one project, without the daemon's list of them; start one with baton serve, or leave BATON_PROJECT / --project unset`, {
      details: { project },
    });
  }
  return (await import('../engine/open.ts')).openCoordinator(options);
}

export async function openCoordinator(options: ClientOpenOptions = {}): Promise<Coordinator> {
  const url = options.url ?? (process.env.BATON_URL || undefined);
  const project = options.project ?? (process.env.BATON_PROJECT || undefined);
  if (project !== undefined) checkProjectName(project, options.project === undefined ? 'BATON_PROJECT' : 'project');
  const remoteOptions: RemoteOptions = {
    ...(options.token === undefined ? (process.env.BATON_TOKEN ? { token: process.env.BATON_TOKEN } : {}) : { token: options.token }),
    ...(options.hmacSecret === undefined ? {} : { hmacSecret: options.hmacSecret }),
    ...(options.hmacKeyFile === undefined ? {} : { hmacKeyFile: options.hmacKeyFile }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.retryForMs === undefined ? {} : { retryForMs: options.retryForMs }),
    ...(options.onDaemonWait === undefined ? {} : { onDaemonWait: options.onDaemonWait }),
    ...(options.breaker === undefined ? {} : { breaker: options.breaker }),
    ...(options.bulkhead === undefined ? {} : { bulkhead: options.bulkhead }),
    ...(project === undefined ? {} : { project }),
  };
  if (url !== undefined) {
    const target = parseUrl(url);
    if ('embedded' in target) return openEmbedded({ ...options, url: target.embedded }, project);
    return new RemoteCoordinator({ ...remoteOptions, ...target });
  }
  const location = locateProject(options.cwd);
  if (options.stateDir === undefined && location.source === 'cwd') {
    throw noProjectError(location.root, '{ stateDir } or { url }');
  }
  const stateDir = options.stateDir ?? location.stateDir;
  // The daemon may have been started in another worktree of the repository: file and git operations act in ours.
  const inGit = location.source === 'git' || (location.source === 'BATON_HOME' && gitToplevel(location.root) === location.root);
  const ours = options.stateDir === undefined || resolve(options.stateDir) === location.stateDir;
  const here = inGit && ours ? { worktree: location.root } : {};
  const embedded = (): Promise<Coordinator> => {
    ensureStateDir(stateDir);
    // $BATON_STORE names the database the project's daemon serves (baton serve --store): without a daemon, that one too.
    return openEmbedded({ ...options, url: process.env.BATON_STORE || `sqlite:${statePaths(stateDir).database}` }, project);
  };
  if (options.noDaemon) return embedded();
  const running = await liveDaemon(stateDir);
  if (running !== undefined) return new RemoteCoordinator({ ...remoteOptions, ...running, ...here });
  const allowed = options.autoStart ?? !process.env.BATON_NO_DAEMON;
  if (allowed) {
    // Made here, private and hidden from git, before the daemon's start would make it plainly.
    ensureStateDir(stateDir);
    options.onDaemonWait?.({ target: stateDir, reason: 'starting it', since: Date.now() });
    try {
      const socketPath = await startDaemonProcess(stateDir, options.cwd === undefined ? {} : { cwd: options.cwd });
      return new RemoteCoordinator({ ...remoteOptions, socketPath, ...here });
    } catch {
      // The daemon is a means, not a requirement: the embedded store serves the same interface. Silent, so
      // output is the same either way; if the store cannot open either, its error is the one thrown.
    } finally {
      options.onDaemonWait?.(undefined);
    }
  }
  return embedded();
}
