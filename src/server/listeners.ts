// Where the daemon listens: its unix socket (0600, in the 0700 state
// directory), a Windows named pipe, and TCP with every request authenticated.
// On the way down the listeners stop accepting, requests in flight finish
// (their writes are queued), then idle and streaming connections are dropped.
import { createHash } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import type { DaemonRecord } from '../project/daemon-record.ts';
import { ensureHmacSecret } from '../project/hmac-key.ts';
import { statePaths } from '../project/state-dir.ts';
import type { Transport } from './api.ts';
import { Authenticator, type AuthResult } from './auth.ts';
import { answerClientErrors, headProblem, refuse } from './client-errors.ts';
import type { GroupWriter } from './writer.ts';

/** What the listeners count and the daemon's idle checks read. */
export interface Activity {
  stopping: boolean;
  /** performance.now() of the last request or connection change. */
  lastActivity: number;
  connections: number;
}

export interface ListenOptions {
  stateDir: string;
  /** Also listen on TCP (every request authenticated). */
  listen: { host: string; port: number } | undefined;
  maxConnections: number;
  requestTimeoutMs: number;
  /** The dashboard's cookie, accepted on TCP (undefined: none sent). */
  authenticateCookie?: (req: IncomingMessage) => AuthResult | undefined;
}

/** Opens a loopback TCP listener that only the dashboard's cookie gets into; resolves to its port. */
export type OpenLoopback = (port: number) => Promise<number>;

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

/**
 * Listens on `record.socket` (unless null) and on TCP (when asked; the address
 * it got goes into `record.listen`), serving `serve`. The listeners' closing
 * goes on `held` before the first one listens.
 */
export async function openListeners(
  held: AsyncDisposableStack,
  options: ListenOptions,
  record: DaemonRecord,
  serve: (req: IncomingMessage, res: ServerResponse, transport: Transport) => void,
  activity: Activity,
  writer: GroupWriter,
): Promise<OpenLoopback> {
  const servers: Server[] = [];
  held.defer(async () => {
    for (const server of servers) server.close();
    await writer.drain();
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const server of servers) server.closeAllConnections();
  });

  function serverFor(transport: Transport): Server {
    const requestTimeout = options.requestTimeoutMs;
    const headersTimeout = Math.min(10_000, requestTimeout);
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): a short limit needs a shorter interval to mean anything.
    // Host is checked by headProblem, which answers in JSON as every refusal does (Node's own check answers a bare 400).
    const server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))), keepAliveTimeout: 60_000, requireHostHeader: false }, (req: IncomingMessage, res: ServerResponse) => {
      const problem = headProblem(req);
      if (problem !== undefined) refuse(res, problem);
      else serve(req, res, transport);
    });
    server.maxConnections = options.maxConnections;
    server.on('connection', (socket) => {
      activity.connections++;
      activity.lastActivity = performance.now();
      socket.on('close', () => {
        activity.connections--;
        activity.lastActivity = performance.now();
      });
    });
    // Before any request reaches serve (and so authentication): heads the parser refused, and those Node would answer bare.
    answerClientErrors(server, { requestTimeoutMs: requestTimeout, headersTimeoutMs: headersTimeout });
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
        ...(options.authenticateCookie === undefined ? {} : { authenticateCookie: options.authenticateCookie }),
        authenticateHeaders: (request) => authenticator.authenticateHeaders(request),
        authenticate: (request) => authenticator.authenticate(request),
      });
      await listen(server, options.listen);
      const address = server.address();
      record.listen = typeof address === 'object' && address !== null ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : null;
    }
  } catch (error) {
    throw new BatonError('IO_ERROR', `cannot listen on ${record.socket ?? ''}${options.listen ? ` ${options.listen.host}:${options.listen.port}` : ''}: ${(error as Error).message}`, { cause: error });
  }
  const cookieOnly = (): Promise<never> =>
    Promise.reject(new BatonError('UNAUTHENTICATED', "this is the dashboard's listener: it takes the dashboard's cookie only (run `baton ui` to sign in); tokens go to `baton serve --listen`"));
  return async (port) => {
    if (activity.stopping) throw new BatonError('UNAVAILABLE', 'the daemon is stopping');
    const server = serverFor({
      kind: 'tcp',
      ...(options.authenticateCookie === undefined ? {} : { authenticateCookie: options.authenticateCookie }),
      authenticateHeaders: cookieOnly,
      authenticate: cookieOnly,
    });
    try {
      await listen(server, { host: '127.0.0.1', port });
    } catch (error) {
      servers.splice(servers.indexOf(server), 1);
      throw new BatonError('IO_ERROR', `the dashboard cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`, { cause: error });
    }
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  };
}
