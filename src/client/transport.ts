// HTTP/1.1 to the daemon over a unix socket, a named pipe or TCP, with
// keep-alive connections, per-request deadlines, AbortSignal, retries with
// jittered backoff where a retry is safe, and the engine's typed errors.
// While requests are being retried it tells a hook (the CLI shows a note on a
// terminal); the library itself never prints.
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { BatonError, ErrorCodes, type ErrorCode } from '../errors.ts';
import { retryableStatus } from '../protocol/http-status.ts';
import type { DaemonWait, DaemonWaitHook, TransportHooks } from './daemon-wait.ts';
import type { Endpoint } from './endpoint.ts';
import { signRequest } from '../protocol/signing.ts';
import { HmacKeyFiles } from '../project/hmac-key.ts';

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Time for one attempt to be answered. */
  timeoutMs?: number;
  /** Retry connection failures, 429 and 503 until this much time has passed (0: no retry). */
  retryForMs?: number;
}

/** Why a connection failed or an answer asks for a retry, in a few words. */
function waitReason(errno: string, status: number): string {
  if (status === 503) return 'it is restarting (503)';
  if (status === 429) return 'it is busy (429)';
  if (errno === 'ENOENT') return 'its socket is not there (ENOENT)';
  return `it is not answering (${errno})`;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN']);

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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The listener goes with the timer: the client's own signal lives as long as the client.
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new BatonError('ABORTED', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
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

  constructor(endpoint: Endpoint & TransportHooks) {
    this.endpoint = endpoint;
    this.agent = new Agent({ keepAlive: true, maxSockets: 64 });
    this.#onDaemonWait = endpoint.onDaemonWait;
    this.#keyFile = endpoint.hmacKeyFile === undefined ? undefined : new HmacKeyFiles(endpoint.hmacKeyFile);
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

  async request(path: string, options: RequestOptions = {}): Promise<unknown> {
    const method = options.method ?? 'POST';
    const body = method === 'POST' ? JSON.stringify(options.body ?? {}) : '';
    const retryUntil = performance.now() + (options.retryForMs ?? 0);
    let retried = false;
    try {
      for (let attempt = 0; ; attempt++) {
        options.signal?.throwIfAborted();
        const controller = new AbortController();
        const onAbort = (): void => controller.abort(options.signal?.reason);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new BatonError('UNAVAILABLE', `no answer from the daemon within ${options.timeoutMs} ms`)), options.timeoutMs);
        let status: number;
        let text: string;
        let retryAfterMs = 0;
        try {
          const res = await this.open(path, { method, body, signal: controller.signal, ...(options.headers === undefined ? {} : { headers: options.headers }) });
          text = await readText(res);
          status = res.statusCode ?? 0;
          retryAfterMs = Number(res.headers['retry-after'] ?? 0) * 1000;
        } catch (error) {
          if (options.signal?.aborted) throw new BatonError('ABORTED', `aborted: ${String((options.signal.reason as Error)?.message ?? options.signal.reason)}`, { cause: error });
          if (controller.signal.aborted && controller.signal.reason instanceof BatonError) throw controller.signal.reason;
          const code = (error as { code?: string }).code ?? '';
          if (CONNECTION_ERRORS.has(code) && performance.now() < retryUntil) {
            this.#retrying(retried, waitReason(code, 0));
            retried = true;
            await sleep(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random()), options.signal);
            continue;
          }
          throw new BatonError('UNAVAILABLE', `cannot reach the baton daemon at ${this.describe()}: ${(error as Error).message}`, { cause: error });
        } finally {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        }
        if (status >= 200 && status < 300) return text === '' ? undefined : JSON.parse(text);
        if (retryableStatus(status) && performance.now() < retryUntil) {
          this.#retrying(retried, waitReason('', status));
          retried = true;
          await sleep(Math.max(retryAfterMs * Math.random(), Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random())), options.signal);
          continue;
        }
        throw errorFromBody(status, text);
      }
    } finally {
      if (retried) this.#doneRetrying();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
