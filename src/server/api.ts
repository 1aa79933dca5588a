// The daemon's HTTP API: a thin translation of requests onto the Coordinator
// (routes, bodies and schemas come from the operations table), plus the event
// stream, session attachment, status and the OpenAPI document.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Coordinator } from '../coordinator.ts';
import { checkEventQuery } from '../engine/events.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH, PROJECT_HEADER, type TokenScope } from '../limits.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { httpStatusFor } from '../protocol/http-status.ts';
import { DASHBOARD_LINK_PATH, DASHBOARD_SIGN_OUT_PATH, type DashboardLink } from '../protocol/dashboard-link.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import { openApiDocument } from '../protocol/openapi.ts';
import { isOperationName, operations, type OperationName } from '../protocol/operations.ts';
import { KEY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../protocol/signing.ts';
import { scopeAllows, scopesGranting, type ScopedRoute } from '../protocol/token-scopes.ts';
import { checkRequest, resultProblem } from '../protocol/validation.ts';
import { collectStatus, type DaemonInfo } from '../project/status.ts';
import { credentialOf, type AuthResult } from './auth.ts';
import { nameActor, refuseBatonTypes } from '../protocol/admin-actor.ts';
import { projectAllowed, refuseProject, requireAdmin } from './project-access.ts';
import { endWhenProjectCloses, homeOnly, projectOf, type ProjectContext, type ProjectRouter } from './request-project.ts';
import { answerHealth, healthRoute, type HealthCheck } from './health.ts';
import type { Logger } from './log.ts';
import type { DaemonRoute } from './routes.ts';
import { drainBody, parseJson, readBody } from './request-body.ts';
import { openEventStream, type EventStream } from './sse.ts';
import type { RequestTelemetry, RequestTrail } from './request-telemetry.ts';

export interface Authenticate {
  (request: { method: string; path: string; headers: IncomingMessage['headers']; body: Buffer }): Promise<AuthResult>;
}

/** What the headers alone settle: the principal when the request is authenticated already, undefined when the body must be checked too. */
export interface AuthenticateHeaders {
  (request: { method: string; path: string; headers: IncomingMessage['headers'] }): Promise<AuthResult | undefined>;
}

/** Who is on the unix socket (its directory's mode is the check): the machine's user, with every right. */
const LOCAL: AuthResult = { principal: 'local', admin: true };
/** How often an open stream checks that the credential that opened it still holds. */
const STREAM_CREDENTIAL_CHECK_MS = 2_000;

export interface ApiContext {
  coordinator: Coordinator;
  version: string;
  log: Logger;
  maxBodyBytes: number;
  /** Check each operation's answer against its result schema (a mismatch is a bug: 500 INTERNAL). */
  checkResponses?: boolean;
  /** True when a new mutation should be refused with 429 (the writer's queue is full). */
  overloaded(): boolean;
  daemonInfo(): DaemonInfo;
  daemonOperations: DaemonOperations;
  /** The seq of the last committed event (0 when none): where a stream "from now" starts. */
  lastEventSeq(): Promise<number>;
  /** While the daemon stops, dropped session streams do not end their sessions. */
  stopping(): boolean;
  /** Ties an attached session to this daemon's node: it ends if the daemon dies (node TTL). */
  bindSession?(sessionId: string): Promise<void>;
  /**
   * The projects the daemon serves besides the one above (server/projects.ts):
   * a request naming another (the x-baton-project header, or ?project= on a GET)
   * works on that project's engine and operations.
   */
  projects?: ProjectRouter;
  /** Routes mounted for the daemon's caller (e.g. /v1/mcp), by path; matched after authentication, before the API's own. */
  routes: ReadonlyMap<string, Pick<DaemonRoute, 'handle'>>;
  /** Request ids, the access log, metrics (GET /metrics) and spans (request-telemetry.ts). */
  telemetry: RequestTelemetry;
  /**
   * Whether what a request opened may go on: its token not revoked or
   * expired, its signing key not retired, its dashboard session not ended.
   * An open stream is checked at its keep-alive beat, and ends when this says no.
   */
  credentialLive?(who: AuthResult): boolean;
  /** The checks of GET /livez and /readyz (server/health.ts); the API answers their ?verbose form on TCP, after authentication. */
  health?(which: 'livez' | 'readyz'): HealthCheck[];
  /** The web dashboard: /ui/* on TCP listeners, and the links `baton ui` opens. */
  dashboard?: {
    handle(req: IncomingMessage, res: ServerResponse, route: string, query: string): Promise<void>;
    link(options: { readOnly: boolean }, who: { principal: string; readOnly: boolean }): Promise<DashboardLink>;
    signOutAll(): number;
  };
}


export interface Transport {
  kind: 'unix' | 'tcp' | 'pipe';
  /** TCP: every request must pass it; it throws UNAUTHENTICATED. */
  authenticate?: Authenticate;
  /** TCP: runs before the body is read, so no credentials cost no body; it throws UNAUTHENTICATED. */
  authenticateHeaders?: AuthenticateHeaders;
  /** TCP: the dashboard's cookie, for a request that carries no token or signature (undefined: no cookie). */
  authenticateCookie?: (req: IncomingMessage) => AuthResult | undefined;
}

/** A request that carries a token or a signature: the cookie, if any, is not what authenticates it. */
const carriesCredentials = (req: IncomingMessage): boolean =>
  req.headers.authorization !== undefined || req.headers[SIGNATURE_HEADER.toLowerCase()] !== undefined || req.headers[TIMESTAMP_HEADER.toLowerCase()] !== undefined || (req.url ?? '').includes('access_token=');

/** A principal's scopes: a scoped token's, `read` for a read-only token or dashboard session, else `full`. */
const scopesOf = (who: AuthResult): readonly TokenScope[] => who.scopes ?? (who.readOnly === true ? ['read'] : ['full']);

/** Refuses what the principal's scopes do not grant (protocol/token-scopes.ts), naming the principal, its scopes and what it asked. */
function refuseOutOfScope(who: AuthResult, action: { operation: OperationName } | { route: ScopedRoute }, what: string): void {
  const scopes = scopesOf(who);
  if (scopeAllows(scopes, action)) return;
  if (who.readOnly === true) throw new BatonError('PERMISSION_DENIED', `${who.principal} is read-only: it cannot ${what}`);
  const needs = scopesGranting(action);
  throw new BatonError('PERMISSION_DENIED', `${who.principal} has scope ${scopes.join(',')}: it cannot ${what}; that needs scope ${needs.join(' or ')}`, {
    details: { principal: who.principal, scopes, needs },
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value === undefined ? null : value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const e = isBatonError(error) ? error : new BatonError('STORE_ERROR', error instanceof Error ? error.message : String(error));
  const status = httpStatusFor(e.code);
  const headers: Record<string, string> = {};
  if (status === 429) headers['retry-after'] = String(Math.max(1, Math.ceil(Number(e.details.retryAfterMs ?? 1000) / 1000)));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { code: e.code, message: e.message, ...(Object.keys(e.details).length > 0 ? { details: e.details } : {}) } }, headers);
}

/** The signal of a call that never waits. */
const never = new AbortController().signal;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Headers that carry one value. Node joins a repeated unknown header with ", " and keeps the first of a known one: either way the request is not what its sender meant. */
const SINGLE_VALUED = new Set(['host', 'content-length', 'content-type', 'authorization', 'idempotency-key', 'last-event-id', PROJECT_HEADER, ...[TIMESTAMP_HEADER, SIGNATURE_HEADER, KEY_ID_HEADER].map((h) => h.toLowerCase())]);

/** Refuses a request that repeats a single-valued header (rawHeaders is name, value, name, value...). */
function refuseRepeatedHeaders(req: IncomingMessage): void {
  const seen = new Set<string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!SINGLE_VALUED.has(name)) continue;
    if (seen.has(name)) throw new BatonError('INVALID_ARGUMENT', `the ${name} header appears more than once; it takes one value`);
    seen.add(name);
  }
}

/** A path parameter, percent-decoded: a malformed escape is the client's mistake. */
function decodePathParameter(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BatonError('INVALID_ARGUMENT', `the ${name} in the path is not valid percent-encoded UTF-8: ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}...` : raw)}`);
  }
}

export function createApi(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse, transport: Transport) => void {
  const attached = new Map<string, Set<EventStream>>();
  // One per kind of listener (its servers and security differ), made on first request: the TCP address is known by then.
  const openapi = new Map<Transport['kind'], string>();
  const documentFor = (kind: Transport['kind']): string => {
    let doc = openapi.get(kind);
    if (doc === undefined) {
      const { listen, socket } = ctx.daemonInfo();
      openapi.set(kind, (doc = JSON.stringify(openApiDocument(ctx.version, { transport: kind, listen, socket }))));
    }
    return doc;
  };

  /** Ends `res` (an open stream) once the credential that opened it no longer holds; checked every few seconds. */
  function endWhenCredentialEnds(who: AuthResult, res: ServerResponse): void {
    const live = ctx.credentialLive;
    if (live === undefined || who === LOCAL) return;
    const timer = setInterval(() => {
      if (live(who)) return;
      ctx.log.info('stream ended: its credential was revoked, expired or retired', { principal: who.principal });
      res.end();
    }, STREAM_CREDENTIAL_CHECK_MS);
    timer.unref();
    res.on('close', () => clearInterval(timer));
  }

  async function attach(p: ProjectContext, sessionId: string, req: IncomingMessage, res: ServerResponse, who: AuthResult): Promise<void> {
    const session = await p.coordinator.getSession(sessionId);
    if (session.endedAt !== null) throw new BatonError('SESSION_ENDED', `session ${sessionId} (${session.name}) ended: ${session.endReason ?? 'ended'}`);
    const stream = openEventStream(res, { keepAliveMs: 5_000 });
    endWhenProjectCloses(p, res);
    ctx.telemetry.streamOpened('attach', res);
    endWhenCredentialEnds(who, res);
    await p.bindSession?.(sessionId);
    stream.send({ type: 'attached', sessionId });
    let streams = attached.get(sessionId);
    if (streams === undefined) attached.set(sessionId, (streams = new Set()));
    streams.add(stream);
    ctx.log.info('session attached', { sessionId, name: session.name });
    // HTTP clients never half-close a stream: the end of the socket's input means the client is gone.
    req.socket.once('end', () => res.destroy());
    req.socket.setKeepAlive(true, 1000);
    res.on('close', () => {
      streams.delete(stream);
      if (streams.size > 0) return;
      attached.delete(sessionId);
      if (ctx.stopping()) return;
      // The client's connection is gone (its process died or it closed): end the session now.
      p.coordinator.endSession(sessionId, { reason: 'disconnected' }).then(
        () => ctx.log.info('session ended: connection dropped', { sessionId }),
        (error: unknown) => {
          if (!isBatonError(error, 'SESSION_ENDED') && !isBatonError(error, 'NOT_FOUND')) ctx.log.warn('ending a dropped session failed', { sessionId, error: String(error) });
        },
      );
    });
  }

  async function events(p: ProjectContext, url: URL, req: IncomingMessage, res: ServerResponse, who: AuthResult): Promise<void> {
    const topics = (url.searchParams.get('topics') ?? url.searchParams.get('types') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    const resume = header(req, 'last-event-id') ?? url.searchParams.get('after') ?? undefined;
    let after = -1;
    if (resume !== undefined && resume !== '') {
      // Decimal digits only: Number() would also take "0x10", "1e3" and " 5 ".
      after = /^[0-9]{1,16}$/.test(resume) ? Number(resume) : NaN;
      if (!Number.isSafeInteger(after) || after < 0) throw new BatonError('INVALID_ARGUMENT', `Last-Event-ID / after must be an event seq (a whole number >= 0), got ${JSON.stringify(resume)}`);
    }
    // Checked before the 200 goes out: once the stream is open an error could only hang up.
    checkEventQuery({ after, types: topics }, -1);
    // From "now": fix now as a seq and tell the reader (an id-only block), so a drop before the first event resumes there.
    const startId = after < 0 ? await p.lastEventSeq() : undefined;
    if (res.destroyed) return;
    const stream = openEventStream(res, startId === undefined ? {} : { startId });
    endWhenProjectCloses(p, res);
    ctx.telemetry.streamOpened('events', res);
    const subscription = p.coordinator.subscribe((event) => stream.send(event, event.seq), { after: startId ?? after, types: topics });
    res.on('close', () => subscription.close());
    endWhenCredentialEnds(who, res);
  }

  /** The body of a dashboard request: a JSON object (or nothing) with only the fields named. */
  function dashboardBody(raw: Buffer, what: string, fields: string[]): Record<string, unknown> {
    const input = parseJson(raw);
    for (const key of Object.keys(input)) {
      if (!fields.includes(key)) throw new BatonError('INVALID_ARGUMENT', `unknown field ${JSON.stringify(key)} in a dashboard ${what} request; it takes ${fields.length === 0 ? 'none' : `only ${fields.join(', ')}`}`);
    }
    return input;
  }

  /** POST /v1/ui/link {readOnly?}: a one-time sign-in link to the dashboard; any caller short of full gets a read-only one. */
  async function dashboardLink(raw: Buffer, who: AuthResult): Promise<DashboardLink> {
    // A narrower scope (tasks, files) has no dashboard: the page shows every part.
    refuseOutOfScope(who, { route: 'dashboardLink' }, 'open the dashboard (it shows every part of the project)');
    if (ctx.dashboard === undefined) throw new BatonError('UNAVAILABLE', 'this daemon serves no dashboard');
    const input = dashboardBody(raw, 'link', ['readOnly']);
    if (input.readOnly !== undefined && typeof input.readOnly !== 'boolean') throw new BatonError('INVALID_ARGUMENT', `readOnly must be true or false, got ${JSON.stringify(input.readOnly)}`);
    // The session lives by the credential that asked: a token, or the key that signed (it ends when that key retires).
    return ctx.dashboard.link({ readOnly: input.readOnly === true }, { principal: credentialOf(who), readOnly: !scopesOf(who).includes('full') });
  }

  /** POST /v1/<name>: the body checked against the operation's schema, then the call the table names. */
  async function callOperation<K extends OperationName>(p: ProjectContext, name: K, req: IncomingMessage, res: ServerResponse, raw: Buffer, who: AuthResult, trail: RequestTrail): Promise<void> {
    const operation = operations[name];
    refuseOutOfScope(who, { operation: name }, operation.mutation ? `call ${name} (it changes state)` : `call ${name}`);
    const input = parseJson(raw);
    const body = checkRequest(name, input);
    // After the body's check: a malformed body is the caller's mistake whoever sends it (400 before 403).
    if (name === 'projectCreate' || name === 'projectArchive') requireAdmin(who, `call ${name}`);
    if (operation.mutation && typeof body === 'object' && body !== null) nameActor(name, body as Record<string, unknown>, credentialOf(who));
    if (name === 'publish') refuseBatonTypes(who, (body as { type: string }).type);
    trail.body = body;
    const idem = header(req, 'idempotency-key');
    if (idem !== undefined) {
      if (!operation.mutation) throw new BatonError('INVALID_ARGUMENT', `${name} is a read; it takes no Idempotency-Key`);
      if (input.idempotencyKey !== undefined && input.idempotencyKey !== idem) {
        throw new BatonError('INVALID_ARGUMENT', `the Idempotency-Key header ${JSON.stringify(idem)} differs from the body's idempotencyKey ${JSON.stringify(input.idempotencyKey)}`);
      }
      if (idem.length === 0 || idem.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw new BatonError('INVALID_ARGUMENT', `the Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
      // Every mutation may carry one (the SDK always sends it); those idempotent by nature (heartbeat, sweep) have no use for it.
      Object.assign(body, { idempotencyKey: idem });
    }
    if (operation.mutation && p.overloaded()) {
      throw new BatonError('OVERLOADED', 'the daemon is overloaded: its write queue is full; retry after the Retry-After interval', { details: { retryAfterMs: 1000 } });
    }
    let signal = never;
    if (operation.waitMs !== undefined) {
      // A client that hangs up stops its wait (acquire, take) at once.
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort(new BatonError('ABORTED', 'the client closed the connection'));
      });
      signal = p.closing === undefined ? controller.signal : AbortSignal.any([controller.signal, p.closing]);
    }
    // Its project may be shown only to whom reaches it (projectShow opens it, too).
    if (name === 'projectShow' && ctx.projects !== undefined) {
      const asked = (body as { name: string }).name;
      refuseProject(who, asked, asked === ctx.projects.homeName);
    }
    let result = await operation.call(p.coordinator, body, { signal, daemon: p.daemonOperations }).catch((error: unknown) => {
      // A request in flight when its project was archived: said as such, not as the closed engine under it.
      throw p.closing?.aborted === true ? p.closing.reason : error;
    });
    // A list of projects shows those the caller may reach.
    if (name === 'projectList') result = { projects: (result as { projects: Array<{ name: string; home: boolean }> }).projects.filter((q) => projectAllowed(who, q.name, q.home)) } as typeof result;
    if (ctx.checkResponses) {
      const problem = resultProblem(name, result);
      if (problem !== null) throw new BatonError('INTERNAL', `the answer to ${name} does not fit its schema: ${problem}`);
    }
    trail.result = result;
    sendJson(res, 200, result);
  }

  return (req, res, transport) => {
    const raw = req.url ?? '/';
    const query = raw.indexOf('?');
    // Parsed as a URL only where the query matters (the event stream): a request's path is ours to match as sent.
    const route = query === -1 ? raw : raw.slice(0, query);
    const operation = route.startsWith('/v1/') ? route.slice(4) : '';
    const method = req.method ?? 'GET';
    const trail = ctx.telemetry.begin(req, res, route, method);
    void (async () => {
      try {
        refuseRepeatedHeaders(req);
        // The dashboard's pages sign a browser in and check its cookie themselves.
        if (transport.kind === 'tcp' && ctx.dashboard !== undefined && (route === '/ui' || route.startsWith('/ui/'))) {
          return await ctx.dashboard.handle(req, res, route, query === -1 ? '' : raw.slice(query + 1));
        }
        // Credentials first: a request without them is refused before its body is buffered (Node discards the unread rest).
        let who: AuthResult | undefined = transport.kind === 'tcp' ? undefined : LOCAL;
        if (who === undefined && transport.authenticateCookie !== undefined && !carriesCredentials(req)) who = transport.authenticateCookie(req);
        if (who === undefined && transport.authenticateHeaders !== undefined) who = await transport.authenticateHeaders({ method, path: req.url ?? '/', headers: req.headers });
        const body = method === 'POST' ? await readBody(req, ctx.maxBodyBytes) : Buffer.alloc(0);
        if (who === undefined) {
          if (transport.authenticate === undefined) throw new BatonError('UNAUTHENTICATED', 'this listener accepts no credentials');
          who = await transport.authenticate({ method, path: req.url ?? '/', headers: req.headers, body });
        }
        const project = await projectOf(ctx.projects, ctx, req, raw, who);
        const mounted = ctx.routes.get(route);
        if (mounted !== undefined) {
          homeOnly(project, route);
          refuseOutOfScope(who, { route: 'mounted' }, `use ${route}`);
          return await mounted.handle(req, res, body);
        }
        // The dashboard and the metrics are the default project's: its credential must reach it (projectOf checked that
        // for a request that names no project), and one naming another project is refused.
        if (route === DASHBOARD_LINK_PATH || route === DASHBOARD_SIGN_OUT_PATH || route === '/metrics') homeOnly(project, route);
        if (method === 'POST' && route === DASHBOARD_LINK_PATH) return sendJson(res, 200, await dashboardLink(body, who));
        if (method === 'POST' && route === DASHBOARD_SIGN_OUT_PATH) {
          refuseOutOfScope(who, { route: 'dashboardSignOut' }, 'sign the dashboard out');
          if (ctx.dashboard === undefined) throw new BatonError('UNAVAILABLE', 'this daemon serves no dashboard');
          dashboardBody(body, 'sign-out', []);
          return sendJson(res, 200, { ended: ctx.dashboard.signOutAll() });
        }
        if (method === 'GET') {
          if (route === '/v1/health') return sendJson(res, 200, { ok: true, pid: process.pid, version: ctx.version });
          const probe = healthRoute(req);
          if (probe !== undefined && ctx.health !== undefined) return answerHealth(res, probe.which, ctx.health(probe.which), true);
          if (route === '/v1/whoami') return sendJson(res, 200, { principal: who.principal, readOnly: who.readOnly === true, scopes: scopesOf(who) });
          if (route === '/metrics' && ctx.telemetry.metrics !== undefined) {
            refuseOutOfScope(who, { route: 'status' }, 'read the metrics');
            const text = await ctx.telemetry.metrics.render();
            res.writeHead(200, { 'content-type': ctx.telemetry.metrics.contentType, 'content-length': Buffer.byteLength(text) });
            res.end(text);
            return;
          }
          if (route === '/v1/openapi.json') {
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
            res.end(documentFor(transport.kind));
            return;
          }
          if (route === '/v1/status') {
            refuseOutOfScope(who, { route: 'status' }, 'read the status');
            // Another project's status names its own store, not the default project's.
            const info = ctx.daemonInfo();
            const daemon = project.home === false && project.where !== undefined ? { ...info, store: { ...info.store, where: project.where } } : info;
            const [status, lastEventSeq] = await Promise.all([collectStatus(project.coordinator, daemon), project.lastEventSeq()]);
            return sendJson(res, 200, { ...status, lastEventSeq });
          }
          if (route === '/v1/events') {
            refuseOutOfScope(who, { route: 'events' }, 'read the event stream');
            return await events(project, new URL(raw, 'http://baton'), req, res, who);
          }
          const match = /^\/v1\/sessions\/([^/]+)\/attach$/.exec(route);
          if (match !== null) {
            refuseOutOfScope(who, { route: 'attach' }, 'attach a session (the end of its stream ends the session)');
            // The dashboard never attaches; a page that could would end a session by closing a tab.
            if (who.principal.startsWith('ui:')) throw new BatonError('PERMISSION_DENIED', `${who.principal} is a dashboard session: it cannot attach a session`);
            const sessionId = decodePathParameter('session id', match[1]!);
            trail.body = { sessionId };
            return await attach(project, sessionId, req, res, who);
          }
        } else if (method === 'POST' && isOperationName(operation)) {
          return await callOperation(project, operation, req, res, body, who, trail);
        }
        const isOperation = isOperationName(operation) || route === DASHBOARD_LINK_PATH || route === DASHBOARD_SIGN_OUT_PATH;
        const known = route === '/v1/health' || route === '/livez' || route === '/readyz' || route === '/v1/status' || route === '/v1/events' || route === '/v1/openapi.json' || route === '/v1/whoami' || (route === '/metrics' && ctx.telemetry.metrics !== undefined) || isOperation;
        if (known) {
          res.setHeader('allow', isOperation ? 'POST' : 'GET');
          return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: `${method} is not allowed on ${route}` } });
        }
        throw new BatonError('NOT_FOUND', `no route ${method} ${route}; see GET /v1/openapi.json`);
      } catch (error) {
        // Refused before its body was all read (a repeated header, too large): read the rest and drop it first,
        // so a client still writing it reads this answer instead of a reset. Not for a peer without credentials:
        // it is answered at once and nothing of its body is waited for.
        if (!isBatonError(error, 'UNAUTHENTICATED')) await drainBody(req, ctx.maxBodyBytes);
        ctx.telemetry.failed(trail, error);
        sendError(res, error);
        if (!isBatonError(error) || httpStatusFor(error.code) >= 500) ctx.log.error('request failed', { requestId: trail.id, method, route, error: String((error as Error)?.stack ?? error) });
      } finally {
        ctx.telemetry.end(trail, res);
        const ms = performance.now() - trail.started;
        if (ms > 1000 && route !== '/v1/events' && !route.endsWith('/attach')) ctx.log.info('slow request', { method, route, ms: Math.round(ms) });
      }
    })();
  };
}
