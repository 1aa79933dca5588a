// An OpenTelemetry tracer provider for tests: the SDK's in-memory exporter,
// registered globally with the AsyncLocalStorage context manager, and the
// shape spans are compared in (the same in the test's process and in a
// daemon's, which writes them to a file: support/traced-daemon.ts).
import { context, trace, type SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

export interface SpanRecord {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  /** SpanStatusCode: 0 unset, 1 ok, 2 error. */
  status: number;
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const own = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId: own.traceId,
    spanId: own.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    attributes: { ...span.attributes },
    status: span.status.code,
  };
}

/** Registers a global tracer provider whose finished spans `exporter` holds (and `onSpans` is told of). */
export function registerInMemoryTracing(onSpans?: (spans: SpanRecord[]) => void): { exporter: InMemorySpanExporter; provider: TracerProvider } {
  const exporter = new InMemorySpanExporter();
  if (onSpans !== undefined) {
    const store = exporter.export.bind(exporter);
    exporter.export = (spans, done) => {
      onSpans(spans.map(spanRecord));
      store(spans, done);
    };
  }
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { exporter, provider };
}
