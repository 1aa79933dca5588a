// An in-memory FileLockService for unit tests of code that takes locks. It
// really excludes (exclusive and shared, with waiting and timeouts), and a
// test can script what the next acquisitions return.
import { resolve } from 'node:path';
import { BatonError } from '../errors.ts';
import type { FileLockService, LockHandle, LockOptions, LockResult } from '../files/lock/lock.ts';
import { createRecord, type LockRecord, type LockType } from '../files/lock/record.ts';
import { validateLockOptions } from '../files/lock/options.ts';

export type ScriptedOutcome = 'success' | 'timeout' | 'locked' | 'error';

interface Entry {
  exclusive: number;
  shared: number;
  waiters: Array<() => void>;
  /** Live handles, so a test can make them lose the lock. */
  holders: Set<(why: string) => void>;
}

export interface LockCall {
  op: 'acquire' | 'release' | 'isLocked' | 'lose';
  path: string;
  options?: LockOptions;
  outcome?: ScriptedOutcome;
}

export class ScriptedLockService implements FileLockService {
  /** Every call made, in order, for assertions. */
  readonly calls: LockCall[] = [];
  readonly #locks = new Map<string, Entry>();
  readonly #scripts = new Map<string, ScriptedOutcome[]>();
  readonly #behaviors = new Map<string, ScriptedOutcome>();

  /** The next acquisitions of `path` return these outcomes, one each, then real locking resumes. */
  script(path: string, ...outcomes: ScriptedOutcome[]): this {
    const key = resolve(path);
    this.#scripts.set(key, [...(this.#scripts.get(key) ?? []), ...outcomes]);
    return this;
  }

  /** Every acquisition of `path` returns `behavior` until reset ('success' restores real locking). */
  setLockBehavior(path: string, behavior: ScriptedOutcome): this {
    this.#behaviors.set(resolve(path), behavior);
    return this;
  }

  /** Another (phantom) holder takes `path` exclusively until clearContention. */
  simulateContention(path: string): this {
    this.#entry(resolve(path)).exclusive++;
    return this;
  }

  clearContention(path: string): this {
    const entry = this.#entry(resolve(path));
    entry.exclusive = Math.max(0, entry.exclusive - 1);
    this.#wake(entry);
    return this;
  }

  /**
   * Every handle now holding `path` loses it, as when a holder stalled past its
   * TTL was taken over: its signal aborts with LOCK_LOST, isHeld() turns false,
   * waiters may take the lock, and its release() does nothing. Returns how many lost it.
   */
  loseLock(path: string, why = 'scripted loss'): number {
    const key = resolve(path);
    this.calls.push({ op: 'lose', path: key });
    const entry = this.#locks.get(key);
    if (entry === undefined) return 0;
    const losers = [...entry.holders];
    for (const lose of losers) lose(why);
    this.#wake(entry);
    return losers.length;
  }

  reset(): void {
    this.#locks.clear();
    this.#scripts.clear();
    this.#behaviors.clear();
    this.calls.length = 0;
  }

  async acquire(resourcePath: string, options?: LockOptions): Promise<LockResult> {
    const path = resolve(resourcePath);
    const opts = validateLockOptions(options);
    const scripted = this.#scripts.get(path)?.shift() ?? this.#behaviors.get(path);
    this.calls.push({ op: 'acquire', path, options, outcome: scripted });
    if (scripted === 'timeout') return { success: false, reason: 'timeout', code: 'LOCK_TIMEOUT', message: `timed out after ${opts.timeout} ms waiting for ${path} (scripted)` };
    if (scripted === 'locked') return { success: false, reason: 'locked', code: 'LOCKED', message: `${path} is locked (scripted)` };
    if (scripted === 'error') return { success: false, reason: 'error', code: 'IO_ERROR', message: `cannot lock ${path}: scripted error` };

    const entry = this.#entry(path);
    const deadline = performance.now() + opts.timeout;
    // As the real acquire: an abort is a failure with code ABORTED, never a throw.
    const aborted: LockResult = { success: false, reason: 'error', code: 'ABORTED', message: `gave up waiting for ${path}: aborted` };
    if (opts.signal?.aborted) return aborted;
    while (!this.#free(entry, opts.type)) {
      const left = deadline - performance.now();
      if (opts.timeout === 0) return { success: false, reason: 'locked', code: 'LOCKED', message: `${path} is locked` };
      if (left <= 0) return { success: false, reason: 'timeout', code: 'LOCK_TIMEOUT', message: `timed out after ${opts.timeout} ms waiting for ${path}` };
      await new Promise<void>((wake) => {
        const done = (): void => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', done);
          wake();
        };
        const timer = setTimeout(done, left);
        opts.signal?.addEventListener('abort', done, { once: true });
        entry.waiters.push(done);
      });
      if (opts.signal?.aborted) return aborted;
    }
    if (opts.type === 'exclusive') entry.exclusive++;
    else entry.shared++;
    return { success: true, handle: this.#handle(path, entry, opts.type) };
  }

  async withLock<T>(resourcePath: string, fn: (handle: LockHandle) => Promise<T> | T, options?: LockOptions): Promise<T> {
    const result = await this.acquire(resourcePath, options);
    if (!result.success) throw new BatonError(result.code, result.message);
    try {
      return await fn(result.handle);
    } finally {
      await result.handle.release();
    }
  }

  async isLocked(resourcePath: string): Promise<boolean> {
    const path = resolve(resourcePath);
    this.calls.push({ op: 'isLocked', path });
    const entry = this.#locks.get(path);
    return entry !== undefined && entry.exclusive + entry.shared > 0;
  }

  #entry(path: string): Entry {
    let entry = this.#locks.get(path);
    if (entry === undefined) {
      entry = { exclusive: 0, shared: 0, waiters: [], holders: new Set() };
      this.#locks.set(path, entry);
    }
    return entry;
  }

  #free(entry: Entry, type: LockType): boolean {
    return type === 'exclusive' ? entry.exclusive === 0 && entry.shared === 0 : entry.exclusive === 0;
  }

  #wake(entry: Entry): void {
    const waiters = entry.waiters.splice(0);
    for (const wake of waiters) wake();
  }

  #handle(path: string, entry: Entry, type: LockType): LockHandle {
    let held = true;
    const controller = new AbortController();
    const record: LockRecord = createRecord(path, type, null);
    const letGo = (): void => {
      held = false;
      entry.holders.delete(lose);
      if (type === 'exclusive') entry.exclusive--;
      else entry.shared--;
    };
    const lose = (why: string): void => {
      letGo();
      controller.abort(new BatonError('LOCK_LOST', `lost the ${type} lock on ${path}: ${why}`, { details: { path: `${path}.lock` } }));
    };
    entry.holders.add(lose);
    return {
      lockPath: `${path}.lock`,
      resourcePath: path,
      type,
      record,
      reclaimed: false,
      signal: controller.signal,
      isHeld: () => held,
      addProcess: () => {},
      release: async () => {
        if (!held) return;
        letGo();
        this.calls.push({ op: 'release', path });
        this.#wake(entry);
      },
    };
  }
}
