// The public types of the file-lock API.
import type { ErrorCode } from '../../errors.ts';
import type { LockRecord, LockType, Verdict } from './record.ts';

export interface LockOptions {
  /** Milliseconds to wait for the lock (default 30000). 0 tries once; Infinity waits for ever. */
  timeout?: number;
  /** Cap of the fallback polling interval in ms (default 100); waiters are normally woken by a directory watch. */
  retryInterval?: number;
  /** Give up after this many failed attempts (default: no limit, only the timeout). */
  maxRetries?: number;
  /** 'exclusive' (default): one holder. 'shared': many holders, no exclusive one. */
  type?: LockType;
  /**
   * Lease time in ms. The holder renews the record every ttl/3; if it stops
   * (suspended, blocked, or on another host and gone) others may reclaim the
   * lock after `ttl`, and the holder's `signal` fires. Without a TTL a lock on
   * this host is reclaimed only when its process is gone.
   */
  ttl?: number;
  /** Aborts waiting for the lock. */
  signal?: AbortSignal;
}

export interface LockHandle {
  release(): Promise<void>;
  /** False once released or lost, and at once when a TTL lock was not renewed in time. */
  isHeld(): boolean;
  readonly lockPath: string;
  readonly resourcePath: string;
  readonly type: LockType;
  /** Aborts (reason: a BatonError with code LOCK_LOST) if the lock is lost while held. */
  readonly signal: AbortSignal;
  /** The record this holder wrote. */
  readonly record: Readonly<LockRecord>;
  /** True if taking the lock meant reclaiming it from a dead or expired holder (a crash happened). */
  readonly reclaimed: boolean;
  /** Makes another process keep the lock alive too, for as long as it runs (used by `baton run`). */
  addProcess(pid: number): void;
}

export interface LockHolder {
  record: LockRecord;
  /** Where the record lives on disk. */
  path: string;
  /** Last renewal (the record's mtime). */
  renewedAt: string;
  verdict: Verdict;
}

export type LockResult =
  | { success: true; handle: LockHandle }
  | { success: false; reason: 'timeout' | 'locked' | 'error'; message: string; code: ErrorCode; holder?: LockHolder };

export interface LockInfo {
  resourcePath: string;
  lockPath: string;
  state: 'unlocked' | 'held' | 'stale' | 'corrupt';
  /** The exclusive holder (or waiting writer) and every shared holder. */
  holders: LockHolder[];
  /** Contenders waiting for their turn, longest-waiting first. */
  waiting: LockHolder[];
  message: string;
}

export interface RemoveResult {
  removed: LockHolder[];
  /** Live holders left in place because `force` was not given. */
  kept: LockHolder[];
}

/** The lock service contract (the plan's FileLockService). */
export interface FileLockService {
  acquire(resourcePath: string, options?: LockOptions): Promise<LockResult>;
  withLock<T>(resourcePath: string, fn: (handle: LockHandle) => Promise<T> | T, options?: LockOptions): Promise<T>;
  isLocked(resourcePath: string): Promise<boolean>;
}

