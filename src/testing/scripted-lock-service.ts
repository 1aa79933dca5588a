// An in-memory FileLockService for unit tests of code that takes locks. It
// really excludes (exclusive and shared, with waiting and timeouts), and a
// test can script what the next acquisitions return.
import { resolve } from 'node:path';
import { BatonError } from '../errors.ts';
import type { FileLockService, LockHandle, LockOptions, LockResult } from '../files/lock.ts';
import { createRecord, type LockRecord, type LockType } from '../files/lock-record.ts';
import { validateLockOptions } from '../files/lock-options.ts';

export type ScriptedOutcome = 'success' | 'timeout' | 'locked' | 'error';

interface Entry {
  exclusive: number;
  shared: number;
  waiters: Array<() => void>;
}

export interface LockCall {
  op: 'acquire' | 'release' | 'isLocked';
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
    while (!this.#free(entry, opts.type)) {
      const left = deadline - performance.now();
      if (opts.timeout === 0) return { success: false, reason: 'locked', code: 'LOCKED', message: `${path} is locked` };
      if (left <= 0) return { success: false, reason: 'timeout', code: 'LOCK_TIMEOUT', message: `timed out after ${opts.timeout} ms waiting for ${path}` };
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        entry.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
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
      entry = { exclusive: 0, shared: 0, waiters: [] };
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
        held = false;
        this.calls.push({ op: 'release', path });
        if (type === 'exclusive') entry.exclusive--;
        else entry.shared--;
        this.#wake(entry);
      },
    };
  }
}
