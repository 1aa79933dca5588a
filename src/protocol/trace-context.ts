// W3C Trace Context on the daemon's wire: the client sends `traceparent`, the
// daemon's span for the request continues that trace. baton depends on no
// OpenTelemetry package: @opentelemetry/api is an optional peer, imported only
// once a tracer provider is registered in the process (the api keeps its
// globals under a symbol of its major version, so that check needs no import).
// A process that registers none pays one property read per request.
import type * as OtelApi from '@opentelemetry/api';

export type { OtelApi };

export const TRACEPARENT_HEADER = 'traceparent';

const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

/** Whether a tracer provider is registered with @opentelemetry/api 1.x in this process. */
export function tracerRegistered(): boolean {
  const api = (globalThis as { [GLOBAL_KEY]?: { trace?: unknown } })[GLOBAL_KEY];
  return api?.trace !== undefined;
}

let loading: Promise<typeof OtelApi | undefined> | undefined;

/** @opentelemetry/api, or undefined when it is not installed (loaded once). */
export function loadOtelApi(): Promise<typeof OtelApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return loading;
}

export interface TraceParent {
  traceId: string;
  spanId: string;
  /** Bit 0: sampled. */
  traceFlags: number;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>`, the version this writes. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * A traceparent header's fields, or undefined when it is not one (the spec:
 * start a new trace then). Later versions may append fields, which are
 * ignored; version ff and all-zero ids are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined) || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) };
}
