// One delivery's HTTP request: a POST of the JSON body with its signed
// headers, to the address the guard checked (the URL's host stays the Host
// header and, over https, the name the certificate must carry). Redirects are
// not followed (a 3xx is a failure: a redirect could lead anywhere), the
// answer's body is read only to free the connection, and the whole exchange
// has a deadline.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { DeliveryOutcome } from '../../engine/webhooks.ts';
import { hostOf, type Target } from './url-guard.ts';

/** What is read of an answer's body at most, then dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface Post {
  url: URL;
  target: Target;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/** The outcome of one POST: its status, or why there was none. Never throws. */
export function post({ url, target, headers, body, timeoutMs, signal }: Post): Promise<DeliveryOutcome> {
  const at = Date.now();
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    const settle = (status: number | null, error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve({ at, status, error, ms: ms() });
    };
    const hostname = hostOf(url);
    const options = {
      method: 'POST',
      host: target.address,
      family: target.family,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, host: url.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'baton-webhooks' },
      // The certificate is checked against the URL's name, not the address connected to.
      ...(url.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
      agent: false as const,
    };
    const onAnswer = (res: IncomingMessage): void => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const done = (): void => settle(res.statusCode ?? null, res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 ? `redirect to ${res.headers.location ?? '?'} not followed` : null);
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    };
    const req = url.protocol === 'https:' ? httpsRequest(options, onAnswer) : httpRequest(options, onAnswer);
    const timer = setTimeout(() => {
      settle(null, `no answer within ${timeoutMs / 1000} s`);
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      settle(null, 'the daemon stopped');
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => settle(null, error.code === undefined ? error.message : `${error.code}: ${error.message}`));
    req.end(body);
  });
}
