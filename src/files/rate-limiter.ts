// A token bucket shared by every process that opens the same state file.
// The state (tokens, last refill) is read and written under the file's lock,
// so all processes together never get more than rate x elapsed + burst.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { writeFileAtomicSync } from './atomic-write.ts';
import { withLock, type LockOptions } from './lock.ts';
import { pause } from './pause.ts';

export interface RateLimiterOptions {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the most that can be taken at once after a pause. */
  burst: number;
  lock?: Omit<LockOptions, 'type'>;
}

export interface TakeOptions {
  /** Wait until the tokens are there (default false). */
  wait?: boolean;
  /** With wait: give up after this many ms (default: no limit). */
  timeout?: number;
  signal?: AbortSignal;
}

/** `at`: the limiter's clock (ms since the epoch) when the bucket was read for this answer. */
export type TakeResult = { granted: true; remaining: number; at: number } | { granted: false; retryAfterMs: number; remaining: number; at: number };

interface BucketState {
  tokens: number;
  /** Wall-clock ms of the last refill; all processes on one host share the clock. */
  updatedAt: number;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BatonError('INVALID_ARGUMENT', `${name} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

export class FileRateLimiter {
  readonly path: string;
  readonly rate: number;
  readonly burst: number;
  readonly #lock: Omit<LockOptions, 'type'>;

  constructor(path: string, options: RateLimiterOptions) {
    if (typeof path !== 'string' || path.length === 0) throw new BatonError('INVALID_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
    this.path = resolve(path);
    this.rate = positive('rate', options?.rate);
    this.burst = positive('burst', options?.burst);
    this.#lock = options.lock ?? {};
  }

  /** Takes `n` tokens if they are there; with `wait`, waits for them. */
  async take(n = 1, options: TakeOptions = {}): Promise<TakeResult> {
    positive('n', n);
    if (n > this.burst) throw new BatonError('INVALID_ARGUMENT', `cannot take ${n} tokens from ${this.path}: more than its burst of ${this.burst}`);
    const deadline = options.timeout === undefined ? Infinity : performance.now() + options.timeout;
    for (;;) {
      // Peek without the lock first: a caller that would be refused does not
      // hold up the ones that can be granted. The peek is only a hint.
      const peek = this.#peek(n);
      const result = peek ?? (await this.#tryTake(n));
      if (result.granted || options.wait !== true) return result;
      const left = deadline - performance.now();
      if (left <= 0) return result;
      if (options.signal?.aborted) throw new BatonError('ABORTED', `gave up waiting for ${n} tokens from ${this.path}: aborted`);
      await pause(Math.min(left, result.retryAfterMs), options.signal);
    }
  }

  /** The bucket as it is now, without taking anything. */
  async status(): Promise<{ tokens: number; rate: number; burst: number }> {
    const state = refill(this.#read(), this.rate, this.burst, Date.now());
    return { tokens: state.tokens, rate: this.rate, burst: this.burst };
  }

  async #tryTake(n: number): Promise<TakeResult> {
    return withLock(
      this.path,
      async () => {
        const stored = this.#read();
        const at = Date.now();
        const state = refill(stored, this.rate, this.burst, at);
        if (state.tokens >= n) {
          state.tokens -= n;
          this.#write(state, stored === undefined);
          return { granted: true, remaining: state.tokens, at };
        }
        return { granted: false, retryAfterMs: Math.ceil(((n - state.tokens) / this.rate) * 1000), remaining: state.tokens, at };
      },
      { ...this.#lock, type: 'exclusive' },
    );
  }

  /** A refusal computed from an unlocked read, or undefined to go and take the lock. */
  #peek(n: number): TakeResult | undefined {
    let state: BucketState | undefined;
    try {
      state = this.#read();
    } catch {
      return undefined;
    }
    const at = Date.now();
    const now = refill(state, this.rate, this.burst, at);
    if (now.tokens >= n) return undefined;
    return { granted: false, retryAfterMs: Math.ceil(((n - now.tokens) / this.rate) * 1000), remaining: now.tokens, at };
  }

  #read(): BucketState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw fsError(error, 'read', this.path);
    }
    try {
      const state = JSON.parse(text) as BucketState;
      if (typeof state.tokens === 'number' && typeof state.updatedAt === 'number') return state;
    } catch {
      // fall through
    }
    throw new BatonError('CORRUPT_FILE', `rate limiter state ${this.path} is not valid; delete it to start with a full bucket`, { details: { path: this.path } });
  }

  /**
   * The state is a fixed-size record rewritten in place by one small write
   * under the lock (one syscall instead of a temp file and a rename). It
   * survives process crashes; a power loss can at worst refill the bucket.
   */
  #write(state: BucketState, create: boolean): void {
    const text = `${JSON.stringify(state)}`.padEnd(STATE_BYTES - 1) + '\n';
    if (create) return writeFileAtomicSync(this.path, text, { fsync: false });
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r+');
      writeSync(fd, text, 0);
    } catch (error) {
      throw fsError(error, 'write', this.path);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

const STATE_BYTES = 128;

function refill(state: BucketState | undefined, rate: number, burst: number, now: number): BucketState {
  if (state === undefined) return { tokens: burst, updatedAt: now };
  // A clock that went backwards refills nothing: never more than the rate.
  const elapsed = Math.max(0, now - state.updatedAt);
  return { tokens: Math.min(burst, state.tokens + (elapsed * rate) / 1000), updatedAt: Math.max(now, state.updatedAt) };
}
