// The MCP tools over the daemon's own HTTP listener (streamable HTTP at
// /v1/mcp), for agents that connect remotely. The daemon authenticates the
// request first (TCP: token or HMAC), exactly as for every other route.
//
// Each MCP session (the Mcp-Session-Id the transport hands out on initialize)
// gets its own server and agent. Its baton session ends — releasing its
// reservations and requeueing its claims, as for a stdio agent that exits —
// on the first of:
// - DELETE: the client ended the MCP session;
// - its standalone event stream (the GET the SDK client holds open while
//   connected) closed, and no request followed within STREAM_GRACE_MS. The
//   SDK's Client.close() sends no DELETE: it aborts its requests and that
//   stream, so this is how a clean close is seen. A cut the client notices is
//   a stream it reopens (the SDK after 1 s), well within the grace; a network
//   that merely stalls closes nothing on either side (TCP waits);
// - no request for the idle TTL (a peer that vanished without closing
//   anything, or a client that never opens the stream): every request
//   heartbeats it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Coordinator, LeaseRef } from '../coordinator.ts';
import { collectStatus, type DaemonInfo } from '../project/status.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import { createBatonServer } from './server.ts';
import { AgentState } from './tools/agent.ts';
import type { Backend } from './tools/index.ts';

/**
 * How long an agent whose event stream closed has to come back (a request, or
 * the stream reopened) before it is taken for gone. 2 s: the SDK reopens a
 * dropped stream after 1 s (its first retry), and a clean close is settled
 * within about 2 s.
 */
export const STREAM_GRACE_MS = 2_000;

/** What the handler needs from the daemon (a subset of the API's context). */
export interface McpHttpContext {
  coordinator: Coordinator;
  version: string;
  daemonInfo(): DaemonInfo;
  daemonOperations: DaemonOperations;
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void };
  /** An agent silent this long has its session ended. Default 10 minutes. */
  mcpIdleMs?: number;
  /** See STREAM_GRACE_MS. */
  mcpStreamGraceMs?: number;
}

export interface McpHttpHandler {
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
  /** Closes every MCP session (their baton sessions then lapse by TTL, or end if asked). */
  close(): Promise<void>;
}

interface Entry {
  transport: StreamableHTTPServerTransport;
  agent: AgentState;
  idle: NodeJS.Timeout | undefined;
  heartbeatAt: number;
  /** Requests being answered now, event streams included. */
  inFlight: number;
  /** Event streams (GETs) open now; whether one ever was. */
  streams: number;
  hadStream: boolean;
  /** Armed when the client hung up and has no stream: ends the agent unless it comes back. */
  gone: NodeJS.Timeout | undefined;
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The tools' backend inside the daemon: the engine and the daemon's own file and git operations. */
function daemonBackend(ctx: McpHttpContext): Backend {
  const ops = ctx.daemonOperations;
  const lease = (ref: LeaseRef | undefined) => (ref === undefined ? {} : { lease: { key: ref.key, token: ref.token } });
  return {
    coordinator: ctx.coordinator,
    // A remote agent's absolute paths mean nothing here: relative paths only.
    root: null,
    writeFile: (path, content, ref, actor) => ops.writeFile({ path, ...(typeof content === 'string' ? { content } : { base64: Buffer.from(content).toString('base64') }), ...lease(ref), actor }),
    deleteFile: (path, ref, actor) => ops.deleteFile({ path, ...lease(ref), actor }),
    renameFile: (from, to, ref, actor) => ops.renameFile({ from, to, ...lease(ref), actor }),
    gitCommit: (message, paths, owner) => ops.gitCommit({ message, paths, owner }),
    status: () => collectStatus(ctx.coordinator, ctx.daemonInfo()),
  };
}

export function createMcpHttpHandler(ctx: McpHttpContext): McpHttpHandler {
  const idleMs = ctx.mcpIdleMs ?? 10 * 60_000;
  const graceMs = ctx.mcpStreamGraceMs ?? STREAM_GRACE_MS;
  const backend = daemonBackend(ctx);
  const sessions = new Map<string, Entry>();

  function forget(id: string, reason: string): void {
    const entry = sessions.get(id);
    if (entry === undefined) return;
    sessions.delete(id);
    clearTimeout(entry.idle);
    clearTimeout(entry.gone);
    entry.agent.end(reason).then(
      () => ctx.log.info('mcp session ended', { mcpSession: id, agent: entry.agent.name, reason }),
      (error: unknown) => ctx.log.warn('ending an mcp session failed', { mcpSession: id, error: String(error) }),
    );
  }

  /** Ends the MCP session and the agent's baton session: a later request gets 404 and starts anew. */
  function end(id: string, entry: Entry, reason: string): void {
    forget(id, reason);
    void entry.transport.close().catch(() => undefined);
  }

  /** A request from the agent: it is alive. Heartbeats at most every third of the TTL (a heartbeat is a write). */
  function touch(id: string, entry: Entry): void {
    clearTimeout(entry.gone);
    entry.gone = undefined;
    clearTimeout(entry.idle);
    entry.idle = setTimeout(() => end(id, entry, 'idle'), idleMs);
    entry.idle.unref();
    const now = Date.now();
    if (now - entry.heartbeatAt < idleMs / 3) return;
    entry.heartbeatAt = now;
    void entry.agent.current().then((session) => (session === undefined ? undefined : ctx.coordinator.heartbeat(session.id))).catch(() => undefined);
  }

  /**
   * Follows one request to its end. The client hanging up — its event stream
   * closing, or a call it abandoned — while it has no stream open arms the
   * grace: a client that closed aborts everything at once, one that lost a
   * connection comes back within it.
   */
  function follow(id: string, entry: Entry, req: IncomingMessage, res: ServerResponse): void {
    // A GET is the event stream (or its refusal) from its first byte: counted open until it closes.
    const stream = req.method === 'GET';
    entry.inFlight++;
    if (stream) entry.streams++;
    res.once('close', () => {
      entry.inFlight--;
      if (stream) {
        entry.streams--;
        if (res.statusCode !== 200) return; // refused (a second stream, a bad header): nothing closed
        entry.hadStream = true;
      } else if (res.writableFinished) {
        return; // answered: nothing about the client's going
      }
      if (!entry.hadStream || entry.streams > 0 || sessions.get(id) !== entry) return;
      clearTimeout(entry.gone);
      entry.gone = setTimeout(() => {
        // A call still being answered (a long wait) is a client that is there.
        if (entry.inFlight === 0) end(id, entry, `disconnected: its event stream closed and no request followed within ${graceMs / 1000} s`);
      }, graceMs);
      entry.gone.unref();
    });
  }

  async function open(req: IncomingMessage, res: ServerResponse, message: unknown): Promise<void> {
    // The baton session's TTL spans the idle timeout, so a live agent's session never lapses first.
    const agent = new AgentState(ctx.coordinator, { kind: 'mcp', autoHeartbeat: false, pid: null, ttlMs: idleMs + 60_000, labels: { transport: 'http' } });
    let entry: Entry | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        entry = { transport, agent, idle: undefined, heartbeatAt: Date.now(), inFlight: 0, streams: 0, hadStream: false, gone: undefined };
        sessions.set(id, entry);
        touch(id, entry);
        ctx.log.info('mcp session opened', { mcpSession: id, remote: req.socket.remoteAddress ?? null });
      },
      onsessionclosed: (id) => forget(id, 'the MCP client closed its session'),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) forget(transport.sessionId, 'the MCP transport closed');
    };
    const server = createBatonServer({
      backend,
      agent,
      version: ctx.version,
      defaultName: (client) => `${(client?.name ?? 'mcp').slice(0, 100)}-${(transport.sessionId ?? randomUUID()).slice(0, 8)}`,
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  }

  return {
    async handle(req, res, body) {
      const method = req.method ?? 'GET';
      let message: unknown;
      if (method === 'POST') {
        try {
          message = JSON.parse(body.toString('utf8'));
        } catch (error) {
          return rpcError(res, 400, -32700, `Parse error: ${(error as Error).message}`);
        }
      }
      const id = header(req, 'mcp-session-id');
      if (id === undefined) {
        if (method === 'POST' && isInitializeRequest(message)) return open(req, res, message);
        return rpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id; start with an initialize request');
      }
      const entry = sessions.get(id);
      // 404 tells the client its session is gone (ended, idle, or the daemon restarted): it starts a new one.
      if (entry === undefined) return rpcError(res, 404, -32001, `Session not found: ${id}; initialize a new session`);
      touch(id, entry);
      follow(id, entry, req, res);
      await entry.transport.handleRequest(req, res, message);
    },
    async close() {
      for (const [id, entry] of [...sessions]) {
        sessions.delete(id);
        clearTimeout(entry.idle);
        clearTimeout(entry.gone);
        await entry.transport.close().catch(() => undefined);
      }
    },
  };
}
