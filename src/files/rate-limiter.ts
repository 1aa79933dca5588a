// A token bucket shared by every process that opens the same state file.
// The state (tokens, last refill) is read and written under the file's lock,
// so all processes together never get more than rate x elapsed + burst.
// A caller that will wait books its tokens at once, letting the bucket go
// negative, and sleeps until they would have refilled (as the engine's rate
// limits do): one lock hold per grant, and waiters served in arrival order.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { writeFileAtomicSync } from './atomic-write.ts';
import { withLock, type LockOptions } from './lock/lock.ts';
import { pause } from './pause.ts';

export interface RateLimiterOptions {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the most that can be taken at once after a pause. */
  burst: number;
  lock?: Omit<LockOptions, 'type'>;
}

export interface TakeOptions {
  /** Wait until the tokens are there (default false): book them now and sleep until they have refilled. */
  wait?: boolean;
  /** With wait: the longest wait to book; a longer one is refused at once (default: no limit). */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * `at`: the limiter's clock (ms since the epoch) when the tokens were taken:
 * when the bucket was read, or for a booked wait when the booked tokens had
 * refilled (take resolves no earlier). A refusal's `at` is when it was read.
 */
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

  /** Takes `n` tokens if they are there; with `wait`, books them and waits until they have refilled. */
  async take(n = 1, options: TakeOptions = {}): Promise<TakeResult> {
    positive('n', n);
    if (n > this.burst) throw new BatonError('INVALID_ARGUMENT', `cannot take ${n} tokens from ${this.path}: more than its burst of ${this.burst}`);
    if (options.timeout !== undefined && !(options.timeout >= 0)) throw new BatonError('INVALID_ARGUMENT', `timeout must be a number >= 0, got ${String(options.timeout)}`);
    const wait = options.wait === true;
    const maxWaitMs = wait ? (options.timeout ?? Infinity) : 0;
    if (wait && options.signal?.aborted) throw aborted(n, this.path);
    // Peek without the lock first: a caller that would be refused does not hold
    // up the others. Only a waiter's refund can shorten a wait seen there.
    const peek = this.#peek(n, maxWaitMs);
    if (peek !== undefined) return peek;
    const result = await this.#tryTake(n, maxWaitMs);
    if (!result.granted || result.at <= Date.now()) return result;
    // Booked: the tokens are ours once they have refilled.
    for (let left = result.at - Date.now(); left > 0; left = result.at - Date.now()) {
      await pause(left, options.signal);
      if (options.signal?.aborted) {
        await this.#refund(n);
        throw aborted(n, this.path);
      }
    }
    return result;
  }

  /** The bucket as it is now, without taking anything. */
  async status(): Promise<{ tokens: number; rate: number; burst: number }> {
    const state = refill(this.#read(), this.rate, this.burst, Date.now());
    return { tokens: state.tokens, rate: this.rate, burst: this.burst };
  }

  /** Takes `n` tokens, or books them if they will have refilled within `maxWaitMs`. */
  async #tryTake(n: number, maxWaitMs: number): Promise<TakeResult> {
    return this.#locked(() => {
      const stored = this.#read();
      const state = refill(stored, this.rate, this.burst, Date.now());
      const refused = refusal(state, n, this.rate, maxWaitMs);
      if (refused !== undefined) return refused;
      const waitMs = waitFor(state, n, this.rate);
      state.tokens -= n;
      this.#write(state, stored === undefined);
      // A clock that went back refilled nothing: the bucket's time is updatedAt.
      return { granted: true, remaining: state.tokens, at: Math.ceil(state.updatedAt + waitMs) };
    });
  }

  /** Gives back tokens booked by a waiter that gave up (never past the burst). */
  async #refund(n: number): Promise<void> {
    await this.#locked(() => {
      const state = refill(this.#read(), this.rate, this.burst, Date.now());
      state.tokens = Math.min(this.burst, state.tokens + n);
      this.#write(state, false);
    }).catch(() => undefined); // the tokens stay spent: fewer grants, never more
  }

  /** Runs `fn` on the state under the file's exclusive lock. */
  #locked<T>(fn: () => T): Promise<T> {
    return withLock(this.path, async () => fn(), { ...this.#lock, type: 'exclusive' });
  }

  /** A refusal computed from an unlocked read, or undefined to go and take the lock. */
  #peek(n: number, maxWaitMs: number): TakeResult | undefined {
    let state: BucketState | undefined;
    try {
      state = this.#read();
    } catch {
      return undefined;
    }
    return refusal(refill(state, this.rate, this.burst, Date.now()), n, this.rate, maxWaitMs);
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

/** Milliseconds until `n` tokens have refilled (0: they are there). */
function waitFor(state: BucketState, n: number, rate: number): number {
  return state.tokens >= n ? 0 : ((n - state.tokens) / rate) * 1000;
}

function refusal(state: BucketState, n: number, rate: number, maxWaitMs: number): TakeResult | undefined {
  const waitMs = waitFor(state, n, rate);
  return waitMs > maxWaitMs ? { granted: false, retryAfterMs: Math.ceil(waitMs), remaining: state.tokens, at: state.updatedAt } : undefined;
}

function aborted(n: number, path: string): BatonError {
  return new BatonError('ABORTED', `gave up waiting for ${n} tokens from ${path}: aborted`);
}

function refill(state: BucketState | undefined, rate: number, burst: number, now: number): BucketState {
  if (state === undefined) return { tokens: burst, updatedAt: now };
  // A clock that went backwards refills nothing: never more than the rate.
  const elapsed = Math.max(0, now - state.updatedAt);
  return { tokens: Math.min(burst, state.tokens + (elapsed * rate) / 1000), updatedAt: Math.max(now, state.updatedAt) };
}
