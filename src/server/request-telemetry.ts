// What the daemon records of each request: its id (request-id.ts), echoed as
// x-request-id; one access line in the log (request id, operation, the
// caller's session when the request names one, outcome code, status, ms);
// the metrics (metrics.ts); the span (tracing.ts). Each part that is off
// costs nothing on the request's path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBatonError, type ErrorCode } from '../errors.ts';
import { isOperationName } from '../protocol/operations.ts';
import { AccessLog } from './access-log.ts';
import type { Logger } from './log.ts';
import type { DaemonMetrics, StreamKind } from './metrics.ts';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.ts';
import type { RequestSpan, Tracing } from './tracing.ts';

/** The routes besides the operations, by the bounded name their metrics and spans carry. */
const ROUTE_NAMES: Record<string, string> = {
  '/v1/health': 'health',
  '/v1/status': 'status',
  '/v1/events': 'events',
  '/v1/openapi.json': 'openapi',
  '/v1/whoami': 'whoami',
  '/v1/ui/link': 'dashboardLink',
  '/v1/ui/sign-out': 'dashboardSignOut',
  '/metrics': 'metrics',
  '/livez': 'livez',
  '/readyz': 'readyz',
};

/** The request's operation as a label from a fixed list: never the path itself (it may carry ids). */
export function operationLabel(route: string, method: string, mounted: ReadonlySet<string>): string {
  const named = ROUTE_NAMES[route];
  if (named !== undefined) return named;
  if (route.startsWith('/v1/')) {
    const name = route.slice(4);
    if (method === 'POST' && isOperationName(name)) return name;
    if (/^\/v1\/sessions\/[^/]+\/attach$/.test(route)) return 'attach';
  }
  if (mounted.has(route)) return route.slice(route.lastIndexOf('/') + 1) || 'mounted';
  if (route === '/ui' || route.startsWith('/ui/')) return 'dashboard';
  return 'unknown';
}

/** One request on its way: the API fills in what it learns (the checked body, the result, the error). */
export interface RequestTrail {
  readonly id: string;
  readonly operation: string;
  readonly started: number;
  body: Record<string, unknown> | undefined;
  result: unknown;
  code: ErrorCode | undefined;
  span: RequestSpan | undefined;
}

export interface TelemetryOptions {
  log: Logger;
  /** One log line per request (baton serve --access-log off turns it off). */
  accessLog: boolean;
  metrics: DaemonMetrics | undefined;
  tracing: Tracing | undefined;
  /** Paths of the routes the daemon's caller mounted (their labels are their last segment). */
  mounted: ReadonlySet<string>;
}

/** A key a span may name: the lease's, the rate limit's (the body's own words; spans are not labels). */
function keyOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.key === 'string') return body.key;
  const lease = body.lease as { key?: unknown } | undefined;
  return typeof lease?.key === 'string' ? lease.key : undefined;
}

function sessionOf(body: Record<string, unknown> | undefined): string | undefined {
  return typeof body?.sessionId === 'string' ? body.sessionId : undefined;
}

export class RequestTelemetry {
  readonly metrics: DaemonMetrics | undefined;
  readonly #options: TelemetryOptions;
  readonly #access: AccessLog | undefined;

  constructor(options: TelemetryOptions) {
    this.#options = options;
    this.metrics = options.metrics;
    this.#access = options.accessLog ? new AccessLog(options.log) : undefined;
  }

  /** Writes the access lines still pending (the daemon stops). */
  close(): void {
    this.#access?.flush();
  }

  /** Names the request (the id goes on the answer at once) and opens its span. */
  begin(req: IncomingMessage, res: ServerResponse, route: string, method: string): RequestTrail {
    const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, id);
    const operation = operationLabel(route, method, this.#options.mounted);
    const span = this.#options.tracing?.start(operation, req.headers.traceparent, { 'baton.request_id': id, 'http.request.method': method });
    return { id, operation, started: performance.now(), body: undefined, result: undefined, code: undefined, span };
  }

  /** What the request failed with (the code an answer carries; a non-baton error answers STORE_ERROR). */
  failed(trail: RequestTrail, error: unknown): void {
    trail.code = isBatonError(error) ? error.code : 'STORE_ERROR';
  }

  /** A stream the request opened (counted until it closes). */
  streamOpened(kind: StreamKind, res: ServerResponse): void {
    this.metrics?.streamOpened(kind, res);
  }

  /** Once the request is answered (or its stream opened): the access line, the metrics, the span's end. */
  end(trail: RequestTrail, res: ServerResponse): void {
    const ms = performance.now() - trail.started;
    const status = res.statusCode;
    const sessionId = sessionOf(trail.body);
    if (this.#access !== undefined) {
      this.#access.write({
        requestId: trail.id,
        operation: trail.operation,
        ...(sessionId === undefined ? {} : { sessionId }),
        code: trail.code ?? 'OK',
        status,
        ms: Math.round(ms * 1000) / 1000,
      });
    }
    this.metrics?.finished({ operation: trail.operation, status, code: trail.code, seconds: ms / 1000, body: trail.body, result: trail.result });
    if (trail.span !== undefined) {
      const key = trail.body === undefined ? undefined : keyOf(trail.body);
      const waited = (trail.result as { waitedMs?: unknown } | undefined)?.waitedMs;
      trail.span.end(
        {
          'baton.outcome': trail.code ?? 'OK',
          'http.response.status_code': status,
          ...(key === undefined ? {} : { 'baton.key': key }),
          ...(sessionId === undefined ? {} : { 'baton.session_id': sessionId }),
          // How long the call waited: a rate-limit take says; an acquire's wait is its time in the daemon.
          ...(typeof waited === 'number' ? { 'baton.waited_ms': waited } : trail.operation === 'acquire' ? { 'baton.waited_ms': Math.round(ms) } : {}),
        },
        status >= 500,
      );
    }
  }
}
