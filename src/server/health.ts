// Health, as Kubernetes asks it. GET /livez: the process answers (no
// dependency is checked: a restart would not mend one). GET /readyz: it can
// do its work. The store is open and writable, and the writer moves. It is
// 503 while the daemon drains on SIGTERM, so a balancer stops sending before
// the listener closes. Both answer `ok` to a probe without credentials. With
// `?verbose` they list each check, in Kubernetes' text form, for people: on
// TCP that needs credentials, since a failure names files and hosts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthCheck } from '../project/status.ts';

export type { HealthCheck };

/** Which health route a request asks for, if any, and whether verbosely. */
export function healthRoute(req: IncomingMessage): { which: 'livez' | 'readyz'; verbose: boolean } | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path !== '/livez' && path !== '/readyz') return undefined;
  return { which: path === '/livez' ? 'livez' : 'readyz', verbose: q !== -1 && new URLSearchParams(url.slice(q + 1)).has('verbose') };
}

/** The one check of /livez: the process answers. */
export const LIVENESS: HealthCheck[] = [{ name: 'ping', ok: true, message: 'answering' }];

/** What the store check watches: the node heartbeat, a write through the writer every third of the node TTL. */
export class StoreProbe {
  #lastOkAt: number;
  #lastError: string | null = null;

  constructor(now = Date.now()) {
    this.#lastOkAt = now;
  }

  succeeded(now = Date.now()): void {
    this.#lastOkAt = now;
    this.#lastError = null;
  }

  failed(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message : String(error);
  }

  /** Healthy while the last heartbeat succeeded and is no older than `withinMs`. */
  check(withinMs: number, now = Date.now()): HealthCheck {
    const age = now - this.#lastOkAt;
    if (this.#lastError !== null) return { name: 'store', ok: false, message: `the last write failed: ${this.#lastError}` };
    if (age > withinMs) return { name: 'store', ok: false, message: `no write has succeeded for ${Math.round(age / 1000)} s (the writer or the store is stuck)` };
    return { name: 'store', ok: true, message: `last write ${age} ms ago` };
  }
}

/** The writer moves: nothing queued has waited longer than `limitMs`. */
export function writerCheck(oldestWaitMs: number, queued: number, limitMs: number): HealthCheck {
  if (oldestWaitMs > limitMs) return { name: 'writer', ok: false, message: `the oldest of ${queued} queued writes has waited ${Math.round(oldestWaitMs / 1000)} s` };
  return { name: 'writer', ok: true, message: `${queued} queued` };
}

export function drainingCheck(stopping: boolean): HealthCheck {
  return stopping ? { name: 'draining', ok: false, message: 'the daemon is stopping (SIGTERM): finishing what it started, taking nothing new' } : { name: 'draining', ok: true, message: 'serving' };
}

/**
 * Answers /livez or /readyz: 200 `ok`, or 503 naming the failed checks (their
 * reasons withheld, as Kubernetes does); `verbose` lists every check with its reason.
 */
export function answerHealth(res: ServerResponse, which: 'livez' | 'readyz', checks: HealthCheck[], verbose: boolean): void {
  const failed = checks.filter((c) => !c.ok);
  const lines = (verbose ? checks : failed).map((c) => `[${c.ok ? '+' : '-'}]${c.name} ${c.ok ? 'ok' : `failed: ${verbose ? c.message : 'reason withheld'}`}`);
  const body = failed.length === 0 && !verbose ? 'ok\n' : `${lines.join('\n')}\n${which} check ${failed.length === 0 ? 'passed' : 'failed'}\n`;
  res.writeHead(failed.length === 0 ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
