// HTTP/1.1 to the daemon over a unix socket, a named pipe or TCP, with
// keep-alive connections, per-request deadlines, AbortSignal, the engine's
// typed errors, and what keeps a client from hanging on a daemon that is gone
// or from starving itself: retries with capped, jittered backoff where a
// retry is safe, a circuit breaker (breaker.ts) and a bulkhead (bulkhead.ts).
// While requests are being retried it tells a hook (the CLI shows a note on a
// terminal); the library itself never prints.
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { BatonError, ErrorCodes, errnoCode, type ErrorCode } from '../errors.ts';
import { sleep } from '../engine/waiting.ts';
import { retryableStatus } from '../protocol/http-status.ts';
import { CircuitBreaker, type TransportFailure } from './breaker.ts';
import { Bulkhead, type LaneName } from './bulkhead.ts';
import type { DaemonWait, DaemonWaitHook, TransportHooks } from './daemon-wait.ts';
import type { Endpoint } from './endpoint.ts';
import type { ResilienceOptions } from './resilience.ts';
import { signRequest } from '../protocol/signing.ts';
import { PROJECT_HEADER } from '../limits.ts';
import { HmacKeyFiles } from '../project/hmac-key.ts';

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Time for one attempt to be answered (and the longest wait for a place in the bulkhead). */
  timeoutMs?: number;
  /** Retry connection failures, 429 and 503 until this much time has passed (0: no retry). */
  retryForMs?: number;
  /**
   * Safe to send twice: a read, or a mutation with an idempotency key. Only
   * such a request is retried after a failure that may have reached the
   * daemon (a reset connection). Default: a GET, or one with an idempotency-key header.
   */
  idempotent?: boolean;
  /** The bulkhead's lane: `liveness` for heartbeats and renewals. Default `general`. */
  lane?: LaneName;
}

/** The backoff between retries: 10 ms doubling per attempt up to 1 s, each times a random factor in [0.5, 1.5). */
export const RETRY_BASE_MS = 10;
export const RETRY_MAX_MS = 1_000;

function backoffMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt) * (0.5 + Math.random());
}

/** Why a connection failed or an answer asks for a retry, in a few words. */
function waitReason(errno: string, status: number): string {
  if (status === 503) return 'it is restarting (503)';
  if (status === 429) return 'it is busy (429)';
  if (errno === 'ENOENT') return 'its socket is not there (ENOENT)';
  return `it is not answering (${errno})`;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN']);
/** Connection errors before the request was sent: no daemon saw it, so any request may be sent again. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** One attempt's outcome: the daemon's answer, or the connection error that kept it from one. */
type Attempt = { status: number; text: string; retryAfterMs: number } | { error: unknown; errno: string };

function errorFromBody(status: number, text: string): BatonError {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    const code = parsed.error?.code;
    if (code !== undefined && (ErrorCodes as readonly string[]).includes(code)) {
      return new BatonError(code as ErrorCode, parsed.error?.message ?? code, { details: { ...(parsed.error?.details ?? {}), status } });
    }
  } catch {
    // not our JSON: fall through
  }
  return new BatonError(status === 401 ? 'UNAUTHENTICATED' : status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT', `the daemon answered ${status}: ${text.slice(0, 200)}`, { details: { status } });
}

/** The whole body (plain listeners: a stream's async iterator costs more than a small answer). */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    // Settles nothing if 'end' or 'error' came first.
    res.once('close', () => reject(Object.assign(new Error('the daemon closed the connection mid-answer'), { code: 'ECONNRESET' })));
  });
}

export class HttpTransport {
  readonly endpoint: Endpoint;
  readonly agent: Agent;
  readonly #onDaemonWait: DaemonWaitHook | undefined;
  /** The key file named by `hmacKeyFile`, re-read when a rotation replaces it. */
  readonly #keyFile: HmacKeyFiles | undefined;
  /** Requests retrying now, and since when the first of them has been. */
  #waiting = 0;
  #waitingSince = 0;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #bulkhead: Bulkhead | undefined;
  /** Ends a probe under way when the client closes. */
  readonly #closing = new AbortController();

  constructor(endpoint: Endpoint & TransportHooks & ResilienceOptions) {
    this.endpoint = endpoint;
    this.#onDaemonWait = endpoint.onDaemonWait;
    this.#keyFile = endpoint.hmacKeyFile === undefined ? undefined : new HmacKeyFiles(endpoint.hmacKeyFile);
    this.#breaker = endpoint.breaker === false ? undefined : new CircuitBreaker(this.describe(), endpoint.breaker ?? {}, () => this.#probe());
    this.#bulkhead = endpoint.bulkhead === false ? undefined : new Bulkhead(this.describe(), endpoint.bulkhead ?? {});
    // With a bulkhead it alone bounds the requests in flight: a socket limit too would queue a heartbeat behind general calls.
    this.agent = new Agent({ keepAlive: true, maxSockets: this.#bulkhead === undefined ? 64 : Infinity });
  }

  /** The breaker's state ('closed' with none): for tests and status displays. */
  get breakerState(): 'closed' | 'open' | 'half-open' {
    return this.#breaker?.state ?? 'closed';
  }

  /** The breaker's probe: any answer to GET /v1/health, even a refusal, shows the daemon is there. */
  async #probe(): Promise<void> {
    const ms = this.#breaker!.probeTimeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), ms);
    try {
      // A fresh connection: a pooled one may be stale after whatever opened the breaker.
      await readText(await this.open('/v1/health', { method: 'GET', signal: AbortSignal.any([deadline.signal, this.#closing.signal]), agent: false }));
    } catch (error) {
      const kind: TransportFailure = deadline.signal.aborted ? 'unanswered' : 'unreachable';
      const why = kind === 'unanswered' ? `no answer to a probe within ${ms} ms` : `a probe failed: ${(error as Error).message}`;
      throw Object.assign(new Error(why, { cause: error }), { kind });
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request is about to retry: counts it once, and tells the hook why. */
  #retrying(counted: boolean, reason: string): void {
    if (!counted && this.#waiting++ === 0) this.#waitingSince = Date.now();
    this.#notify({ target: this.describe(), reason, since: this.#waitingSince });
  }

  /** A request that was retrying is over; the hook hears "done" when it was the last. */
  #doneRetrying(): void {
    if (--this.#waiting === 0) this.#notify(undefined);
  }

  #notify(wait: DaemonWait | undefined): void {
    try {
      this.#onDaemonWait?.(wait);
    } catch {
      // a hook's failure is not the request's
    }
  }

  describe(): string {
    return this.endpoint.socketPath !== undefined ? `baton+unix://${this.endpoint.socketPath}` : `http://${this.endpoint.host}:${this.endpoint.port}`;
  }

  /** Headers that authenticate a request (TCP only). */
  authHeaders(method: string, path: string, body: string): Record<string, string> {
    if (this.endpoint.socketPath !== undefined) return {};
    if (this.endpoint.token !== undefined) return { authorization: `Bearer ${this.endpoint.token}` };
    if (this.endpoint.hmacSecret !== undefined) return signRequest(this.endpoint.hmacSecret, method, path, body);
    if (this.#keyFile !== undefined) {
      const keys = this.#keyFile.read();
      if (keys === undefined) throw new BatonError('UNAUTHENTICATED', `no HMAC key at ${this.endpoint.hmacKeyFile} to sign the request with`, { details: { path: this.endpoint.hmacKeyFile } });
      return signRequest(keys.current, method, path, body);
    }
    return {};
  }

  /** Opens a request and returns the response as it starts (for streams). */
  open(path: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; signal?: AbortSignal; agent?: Agent | false } = {}): Promise<IncomingMessage> {
    const method = options.method ?? 'GET';
    const body = options.body ?? '';
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          ...(this.endpoint.socketPath !== undefined ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port }),
          path,
          method,
          agent: options.agent ?? this.agent,
          headers: {
            ...(method === 'POST' ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
            ...this.authHeaders(method, path, body),
            ...(this.endpoint.project === undefined ? {} : { [PROJECT_HEADER]: this.endpoint.project }),
            ...options.headers,
          },
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
        resolve,
      );
      req.on('error', reject);
      req.end(method === 'POST' ? body : undefined);
    });
  }

  /**
   * One request, retried while that is safe and `retryForMs` lasts: a
   * connection error before the request was sent, a 429 or 503 answer, and,
   * for an idempotent request only, a connection that failed after it was
   * sent. A request not answered within `timeoutMs` is not retried.
   */
  async request(path: string, options: RequestOptions = {}): Promise<unknown> {
    const method = options.method ?? 'POST';
    const body = method === 'POST' ? JSON.stringify(options.body ?? {}) : '';
    const idempotent = options.idempotent ?? (method === 'GET' || options.headers?.['idempotency-key'] !== undefined);
    const retryUntil = performance.now() + (options.retryForMs ?? 0);
    let retried = false;
    const waiting = (reason: string): void => {
      this.#retrying(retried, reason);
      retried = true;
    };
    try {
      for (let attempt = 0; ; attempt++) {
        options.signal?.throwIfAborted();
        await this.#breaker?.admit(retryUntil, options.signal, waiting);
        const outcome = await this.#attempt(path, method, body, options);
        if ('errno' in outcome) {
          if ((NOT_SENT.has(outcome.errno) || idempotent) && performance.now() < retryUntil) {
            waiting(waitReason(outcome.errno, 0));
            await sleep(backoffMs(attempt), options.signal);
            continue;
          }
          throw new BatonError('UNAVAILABLE', `cannot reach the baton daemon at ${this.describe()}: ${(outcome.error as Error).message}`, { cause: outcome.error });
        }
        const { status, text } = outcome;
        if (status >= 200 && status < 300) return text === '' ? undefined : JSON.parse(text);
        if (retryableStatus(status) && performance.now() < retryUntil) {
          waiting(waitReason('', status));
          await sleep(Math.max(outcome.retryAfterMs * Math.random(), backoffMs(attempt)), options.signal);
          continue;
        }
        throw errorFromBody(status, text);
      }
    } finally {
      if (retried) this.#doneRetrying();
    }
  }

  /**
   * One attempt, holding a place in the bulkhead, told to the breaker: the
   * answer, or the connection error that kept it from one. A deadline passed
   * or an abort throws.
   */
  async #attempt(path: string, method: 'GET' | 'POST', body: string, options: RequestOptions): Promise<Attempt> {
    const leave = await this.#bulkhead?.enter(options.lane ?? 'general', options.timeoutMs, options.signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new BatonError('UNAVAILABLE', `no answer from the daemon within ${options.timeoutMs} ms`)), options.timeoutMs);
    try {
      const res = await this.open(path, { method, body, signal: controller.signal, ...(options.headers === undefined ? {} : { headers: options.headers }) });
      const text = await readText(res);
      this.#breaker?.succeeded();
      return { status: res.statusCode ?? 0, text, retryAfterMs: Number(res.headers['retry-after'] ?? 0) * 1000 };
    } catch (error) {
      if (options.signal?.aborted) throw new BatonError('ABORTED', `aborted: ${String((options.signal.reason as Error)?.message ?? options.signal.reason)}`, { cause: error });
      if (controller.signal.aborted && controller.signal.reason instanceof BatonError) {
        this.#breaker?.failed('unanswered', controller.signal.reason.message);
        throw controller.signal.reason;
      }
      const errno = errnoCode(error) ?? '';
      if (!CONNECTION_ERRORS.has(errno)) throw new BatonError('UNAVAILABLE', `cannot reach the baton daemon at ${this.describe()}: ${(error as Error).message}`, { cause: error });
      this.#breaker?.failed('unreachable', (error as Error).message);
      return { error, errno };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      leave?.();
    }
  }

  close(): void {
    this.#closing.abort();
    this.agent.destroy();
  }
}
