// Requests to the daemon from a page. Same origin, the session cookie goes by
// itself with the session's key beside it (session-key.ts), and fetch sends
// the Origin header the daemon checks on POSTs; a
// token, when given, travels as a Bearer header. Every failure becomes a
// BatonError with the daemon's code, so a view tests `error.code` whatever
// went wrong: a refusal, a proxy's 502 or no network at all.
import { BatonError, ErrorCodes, type ErrorCode } from '../errors.ts';
import { SESSION_KEY_HEADER } from '../protocol/dashboard-link.ts';
import { sessionKey } from './session-key.ts';

export interface Endpoint {
  /** '' for the page's own origin, else e.g. 'http://127.0.0.1:7777'. */
  baseUrl: string;
  token: string | undefined;
}

/** A token when given; else, on the page's own origin, the dashboard session's key (its cookie goes by itself). */
export function authHeaders(endpoint: Endpoint): Record<string, string> {
  if (endpoint.token !== undefined) return { authorization: `Bearer ${endpoint.token}` };
  const key = endpoint.baseUrl === '' ? sessionKey() : undefined;
  return key === undefined ? {} : { [SESSION_KEY_HEADER]: key };
}

export function url(endpoint: Endpoint, path: string): string {
  return `${endpoint.baseUrl.replace(/\/+$/, '')}${path}`;
}

const known = new Set<string>(ErrorCodes);

/** A non-2xx answer as the error it names: `{ error: { code, message, details? } }`, or its status when it names none. */
export function answerError(status: number, text: string): BatonError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // not the daemon's JSON (a proxy's page): the status says enough
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const code: ErrorCode = typeof error?.code === 'string' && known.has(error.code) ? (error.code as ErrorCode) : status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT';
  const message = typeof error?.message === 'string' ? error.message : `the daemon answered ${status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  const details = typeof error?.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : {};
  return new BatonError(code, message, { details: { ...details, status } });
}

/** fetch, with a network failure (or an abort) as a BatonError. */
async function send(input: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (error) {
    if (init.signal?.aborted) throw new BatonError('ABORTED', 'the request was stopped', { cause: error });
    throw new BatonError('UNAVAILABLE', `the daemon could not be reached: ${String((error as Error)?.message ?? error)}`, { cause: error });
  }
}

async function json<R>(res: Response): Promise<R> {
  const text = await res.text();
  if (!res.ok) throw answerError(res.status, text);
  try {
    return (text === '' ? null : JSON.parse(text)) as R;
  } catch (error) {
    throw new BatonError('INTERNAL', `the daemon's answer is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

/** POST /v1/<operation>: the protocol's one way to call anything. */
export async function callOperation<R>(endpoint: Endpoint, operation: string, body: object, signal?: AbortSignal): Promise<R> {
  if (!/^[A-Za-z]+$/.test(operation)) throw new BatonError('INVALID_ARGUMENT', `not an operation name: ${JSON.stringify(operation)}`);
  const res = await send(url(endpoint, `/v1/${operation}`), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders(endpoint) },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  return json<R>(res);
}

/** GET /v1/<path> (status, whoami). */
export async function getJson<R>(endpoint: Endpoint, path: string, signal?: AbortSignal): Promise<R> {
  const res = await send(url(endpoint, path), { cache: 'no-store', headers: { accept: 'application/json', ...authHeaders(endpoint) }, ...(signal === undefined ? {} : { signal }) });
  return json<R>(res);
}
