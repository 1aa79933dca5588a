// A circuit breaker for one client's daemon: after `failureThreshold`
// transport failures in a row (refused or reset connections, requests not
// answered within their deadline) it opens, and calls fail at once with
// UNAVAILABLE instead of each waiting out its own timeout. After `coolDownMs`
// one probe (GET /v1/health with a short deadline) asks whether the daemon is
// back: an answer closes the breaker, a failure opens it for another cool-down.
// Any HTTP answer, 4xx or 5xx too, proves the daemon is alive and closes it.
// No Node types: the options are part of the published API.
import { optionalInt } from '../engine/validate.ts';
import { sleep } from '../engine/waiting.ts';
import { BatonError } from '../errors.ts';
import { MAX_WAIT_MS } from '../limits.ts';

export interface BreakerOptions {
  /** Transport failures in a row that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long an open breaker fails calls at once before it probes the daemon. Default 2 s. */
  coolDownMs?: number;
  /** The probe's deadline (GET /v1/health); at most the request timeout. Default 1 s. */
  probeTimeoutMs?: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_DOWN_MS = 2_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;

/**
 * How a request failed on the way: `unreachable`, a connection error (refused,
 * reset, no socket: the daemon is down, crashed or restarting); `unanswered`,
 * no answer within the deadline (the daemon holds the connection but does not
 * answer: stopped with SIGSTOP, or hung).
 */
export type TransportFailure = 'unreachable' | 'unanswered';

function abortable(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  if (signal === undefined) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new BatonError('ABORTED', 'aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.ceil(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export class CircuitBreaker {
  readonly threshold: number;
  readonly coolDownMs: number;
  readonly probeTimeoutMs: number;
  readonly #target: string;
  /** Asks the daemon whether it is there; rejects with the failure's kind. */
  readonly #probe: () => Promise<void>;
  #failures = 0;
  #lastFailure: { kind: TransportFailure; message: string } | undefined;
  /** While open: when (performance.now()) the next probe may go. */
  #openUntil: number | undefined;
  #probing: Promise<void> | undefined;

  constructor(target: string, options: BreakerOptions, probe: () => Promise<void>) {
    this.#target = target;
    this.threshold = optionalInt('breaker.failureThreshold', options.failureThreshold, DEFAULT_FAILURE_THRESHOLD, { min: 1 });
    this.coolDownMs = optionalInt('breaker.coolDownMs', options.coolDownMs, DEFAULT_COOL_DOWN_MS, { min: 1, max: MAX_WAIT_MS });
    this.probeTimeoutMs = optionalInt('breaker.probeTimeoutMs', options.probeTimeoutMs, DEFAULT_PROBE_TIMEOUT_MS, { min: 1, max: MAX_WAIT_MS });
    this.#probe = probe;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.#openUntil === undefined) return 'closed';
    return this.#probing !== undefined || performance.now() >= this.#openUntil ? 'half-open' : 'open';
  }

  /** The daemon answered. */
  succeeded(): void {
    this.#failures = 0;
    this.#openUntil = undefined;
  }

  /** A request failed on the way to the daemon or back. */
  failed(kind: TransportFailure, message: string): void {
    this.#failures++;
    this.#lastFailure = { kind, message };
    if (this.#openUntil === undefined && this.#failures >= this.threshold) this.#openUntil = performance.now() + this.coolDownMs;
  }

  /**
   * Resolves when a request may go to the daemon. While the breaker is open it
   * throws UNAVAILABLE at once, unless the daemon was unreachable (down or
   * restarting, so the caller would have retried anyway) and the
   * next probe comes before `waitUntil`: then it waits for that probe, telling
   * `waiting` why. The first call after a cool-down runs the probe.
   */
  async admit(waitUntil: number, signal: AbortSignal | undefined, waiting: (reason: string) => void): Promise<void> {
    for (;;) {
      if (this.#openUntil === undefined) return;
      signal?.throwIfAborted();
      const now = performance.now();
      const mayWait = this.#lastFailure?.kind === 'unreachable';
      if (now < this.#openUntil) {
        if (!mayWait || this.#openUntil > waitUntil) throw this.#refusal(this.#openUntil - now);
        waiting(`it is not there (${this.#failures} failures in a row); trying again in ${seconds(this.#openUntil - now)}`);
        await sleep(this.#openUntil - now, signal);
        continue;
      }
      if (this.#probing !== undefined) {
        // Half-open: one probe at a time; others wait for it only if they could have waited for it anyway.
        if (!mayWait || now >= waitUntil) throw this.#refusal(0);
        await abortable(this.#probing, signal);
        continue;
      }
      // Settles on its own: a caller that stops waiting (aborted) does not let a second probe start.
      this.#probing = this.#probe()
        .then(
          () => this.succeeded(),
          (error: unknown) => {
            this.failed((error as { kind?: TransportFailure }).kind ?? 'unanswered', (error as Error).message);
            this.#openUntil = performance.now() + this.coolDownMs;
          },
        )
        .finally(() => (this.#probing = undefined));
      await abortable(this.#probing, signal);
    }
  }

  #refusal(inMs: number): BatonError {
    const next = inMs > 0 ? `it will be tried again in ${seconds(inMs)}` : 'a probe of it is under way';
    return new BatonError(
      'UNAVAILABLE',
      `the baton daemon at ${this.#target} failed ${this.#failures} request${this.#failures === 1 ? '' : 's'} in a row (last: ${this.#lastFailure?.message ?? 'unknown'}); failing at once until it answers: ${next}`,
      { details: { target: this.#target, failures: this.#failures, retryAt: Date.now() + Math.ceil(inMs), breaker: 'open' } },
    );
  }
}
