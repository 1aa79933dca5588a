// The client's side of tracing: when the process has registered an
// OpenTelemetry tracer provider, each call is a CLIENT span and its
// `traceparent` goes to the daemon, whose span for the request joins the same
// trace. With none registered nothing is imported and nothing is added.
import { isBatonError } from '../errors.ts';
import { formatTraceparent, loadOtelApi, tracerRegistered, TRACEPARENT_HEADER } from '../protocol/trace-context.ts';

/** Runs `send` (which sends `headers`) inside a span for `operation`, with the span's traceparent among the headers. */
export function traced<T>(operation: string, body: Record<string, unknown>, headers: Record<string, string>, send: () => Promise<T>): Promise<T> {
  // No provider (the usual case): the call itself, not wrapped in another promise.
  return tracerRegistered() ? inSpan(operation, body, headers, send) : send();
}

async function inSpan<T>(operation: string, body: Record<string, unknown>, headers: Record<string, string>, send: () => Promise<T>): Promise<T> {
  const api = await loadOtelApi();
  if (api === undefined) return send();
  const span = api.trace.getTracer('baton/client').startSpan(`baton.${operation}`, {
    kind: api.SpanKind.CLIENT,
    attributes: { 'baton.operation': operation, ...(typeof body.key === 'string' ? { 'baton.key': body.key } : {}) },
  });
  const context = span.spanContext();
  if (api.isSpanContextValid(context)) headers[TRACEPARENT_HEADER] = formatTraceparent(context);
  try {
    const value = await send();
    span.setAttribute('baton.outcome', 'OK');
    return value;
  } catch (error) {
    span.setAttribute('baton.outcome', isBatonError(error) ? error.code : 'ERROR');
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}
