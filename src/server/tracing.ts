// The daemon's traces: one SERVER span per request, continuing the caller's
// trace from its `traceparent`. Checked once, when the daemon starts: with no
// tracer provider registered (or @opentelemetry/api not installed) there is no
// tracing object at all, and a request does no tracing work.
//
// `baton serve --otel` registers one first: the OpenTelemetry Node SDK with
// its OTLP exporter, configured by the standard OTEL_* variables. It is the
// user's to install (npm install @opentelemetry/api @opentelemetry/sdk-node).
import { BatonError } from '../errors.ts';
import { loadOtelApi, parseTraceparent, tracerRegistered, type OtelApi } from '../protocol/trace-context.ts';

export interface RequestSpan {
  /** Ends the span with what the request came to. */
  end(attributes: Record<string, string | number>, failed: boolean): void;
}

export interface Tracing {
  /** A span named for `operation`, a child of the caller's span when `traceparent` names one. */
  start(operation: string, traceparent: string | string[] | undefined, attributes: Record<string, string>): RequestSpan;
}

/** The daemon's tracing, or undefined when no tracer provider is registered in this process. */
export async function openTracing(version: string): Promise<Tracing | undefined> {
  if (!tracerRegistered()) return undefined;
  const api = await loadOtelApi();
  if (api === undefined) return undefined;
  const tracer = api.trace.getTracer('baton/daemon', version);
  return {
    start(operation, traceparent, attributes) {
      const parent = parseTraceparent(traceparent);
      const context = parent === undefined ? api.ROOT_CONTEXT : api.trace.setSpanContext(api.ROOT_CONTEXT, { ...parent, isRemote: true });
      const span = tracer.startSpan(`baton.${operation}`, { kind: api.SpanKind.SERVER, attributes: { 'baton.operation': operation, ...attributes } }, context);
      return {
        end(more, failed) {
          span.setAttributes(more);
          if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };
}

/** What `--otel` started: shut it down after the daemon stops, so the last spans are sent. */
export interface OtelSdk {
  shutdown(): Promise<void>;
}

/** The words of the refusal when the SDK is missing: what to install. */
export const OTEL_INSTALL = 'npm install @opentelemetry/api @opentelemetry/sdk-node';

/**
 * Starts the OpenTelemetry Node SDK for traces only (baton's metrics are
 * Prometheus's: no metric or log exporter), with the exporter OTEL_TRACES_EXPORTER
 * names (default otlp; OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318;
 * OTEL_EXPORTER_OTLP_PROTOCOL, default http/protobuf).
 */
export async function startOtel(version: string): Promise<OtelSdk> {
  let sdk: typeof import('@opentelemetry/sdk-node');
  let api: typeof OtelApi | undefined;
  try {
    sdk = await import('@opentelemetry/sdk-node');
    api = await loadOtelApi();
  } catch (error) {
    throw new BatonError('UNAVAILABLE', `--otel needs the OpenTelemetry SDK, which is not installed: ${OTEL_INSTALL}`, { cause: error });
  }
  if (api === undefined) throw new BatonError('UNAVAILABLE', `--otel needs @opentelemetry/api, which is not installed: ${OTEL_INSTALL}`);
  return sdk.startNodeSdk({
    resourceAttributes: { 'service.name': process.env.OTEL_SERVICE_NAME ?? 'baton', 'service.version': version },
    metricReaders: [],
    logRecordProcessors: [],
  });
}
