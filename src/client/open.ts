// openCoordinator for applications: an explicit url, or discovery. Discovery
// tries, in order: $BATON_URL; a live daemon of this project (its record in
// the state directory); starting one, detached, where allowed; and last the
// embedded store in the state directory (also when starting a daemon fails).
// Every path returns the same Coordinator interface. Outside any project
// (no git repository, no $BATON_HOME, no .baton) and with no stateDir given,
// discovery refuses (NO_PROJECT) instead of making state there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Coordinator } from '../coordinator.ts';
import type { OpenOptions as EmbeddedOptions } from '../engine/open.ts';
import { BatonError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import { ensureStateDir, gitToplevel, locateProject, noProjectError, statePaths } from '../project/state-dir.ts';
import { readDaemonRecord } from '../project/daemon-record.ts';
import { readHmacKey } from '../project/hmac-key.ts';
import type { Endpoint } from './endpoint.ts';
import { RemoteCoordinator, type RemoteOptions } from './remote.ts';
import { HttpTransport } from './transport.ts';

export interface ClientOpenOptions extends Omit<EmbeddedOptions, 'url'>, Omit<RemoteOptions, 'socketPath' | 'host' | 'port'> {
  /** `baton+unix://<socket>`, `http://host:port`, `sqlite:<path>`; default: $BATON_URL, then discovery. */
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

function parseUrl(url: string): RemoteOptions | { sqlite: string } {
  if (url.startsWith('sqlite:')) return { sqlite: url };
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
  throw new BatonError('INVALID_ARGUMENT', `unsupported coordinator url ${JSON.stringify(url)}; use baton+unix://<socket>, http://host:port or sqlite:<path>`);
}

/** True when a daemon answers on the socket within a short time. */
export async function daemonAlive(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return endpointAlive({ socketPath }, timeoutMs);
}

async function endpointAlive(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  const transport = new HttpTransport(endpoint);
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

/** Starts `baton serve` detached for the state dir and waits until it answers. */
export async function startDaemonProcess(stateDir: string, options: { cwd?: string; idleExitSeconds?: number; waitMs?: number; serveArgs?: string[] } = {}): Promise<string> {
  makeDirectories(stateDir, 0o700);
  const idle = options.idleExitSeconds ?? 600;
  const args = [cliEntry(), 'serve', '--state-dir', stateDir, ...(idle > 0 ? ['--idle-exit', String(idle)] : []), ...(options.serveArgs ?? [])];
  const child = spawn(process.execPath, args, { cwd: options.cwd ?? process.cwd(), detached: true, stdio: 'ignore', env: { ...process.env, BATON_HOME: stateDir } });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal === null ? `exited with code ${code}` : `was killed by ${signal}`));
  child.once('error', (error) => (exited = `could not run: ${error.message}`));
  child.unref();
  const waitMs = options.waitMs ?? 10_000;
  const until = performance.now() + waitMs;
  let delay = 5;
  while (performance.now() < until) {
    const socket = await liveDaemonSocket(stateDir, 500);
    if (socket !== undefined) return socket;
    // Ours is gone: unless another daemon holds the lock (it won a race to start and will answer), none is coming.
    if (exited !== undefined && !(await daemonLockHeld(stateDir))) {
      throw new BatonError('UNAVAILABLE', `started a daemon for ${stateDir} but it ${exited} before it answered; see ${statePaths(stateDir).logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(100, delay * 2);
  }
  throw new BatonError('UNAVAILABLE', `started a daemon for ${stateDir} but it did not answer within ${waitMs} ms; see ${statePaths(stateDir).logs}`);
}

/** The socket of the daemon serving `stateDir`, if one answers there now. */
async function liveDaemonSocket(stateDir: string, timeoutMs = 1000): Promise<string | undefined> {
  const record = readDaemonRecord(stateDir);
  return record?.socket && existsSync(record.socket) && (await daemonAlive(record.socket, timeoutMs)) ? record.socket : undefined;
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
  const endpoint = { ...tcp, hmacSecret: secret };
  return (await endpointAlive(endpoint, timeoutMs)) ? endpoint : undefined;
}

/** A client of this project's daemon if one runs now (never starts one, never creates anything). */
export async function connectToRunningDaemon(options: { stateDir?: string; cwd?: string } & Omit<RemoteOptions, 'socketPath' | 'host' | 'port'> = {}): Promise<RemoteCoordinator | undefined> {
  const { stateDir, cwd, ...remote } = options;
  const endpoint = await liveDaemon(stateDir ?? locateProject(cwd).stateDir);
  return endpoint === undefined ? undefined : new RemoteCoordinator({ ...remote, ...endpoint });
}

/** The embedded engine is loaded only when it is used: a client of a daemon never needs node:sqlite. */
async function openEmbedded(options: EmbeddedOptions): Promise<Coordinator> {
  return (await import('../engine/open.ts')).openCoordinator(options);
}

export async function openCoordinator(options: ClientOpenOptions = {}): Promise<Coordinator> {
  const url = options.url ?? (process.env.BATON_URL || undefined);
  const remoteOptions: RemoteOptions = {
    ...(options.token === undefined ? (process.env.BATON_TOKEN ? { token: process.env.BATON_TOKEN } : {}) : { token: options.token }),
    ...(options.hmacSecret === undefined ? {} : { hmacSecret: options.hmacSecret }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.retryForMs === undefined ? {} : { retryForMs: options.retryForMs }),
    ...(options.onDaemonWait === undefined ? {} : { onDaemonWait: options.onDaemonWait }),
  };
  if (url !== undefined) {
    const target = parseUrl(url);
    if ('sqlite' in target) return openEmbedded({ ...options, url: target.sqlite });
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
    return openEmbedded({ ...options, url: `sqlite:${statePaths(stateDir).database}` });
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
