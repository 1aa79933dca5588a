// Validation of LockOptions: bad values fail fast with a message naming them.
import { BatonError } from '../../errors.ts';
import type { LockOptions } from './types.ts';
import type { LockType } from './record.ts';

export interface NormalizedLockOptions {
  timeout: number;
  retryInterval: number;
  maxRetries: number;
  type: LockType;
  ttl: number | null;
  signal: AbortSignal | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_INTERVAL_MS = 100;

function bad(name: string, want: string, value: unknown): BatonError {
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
  return new BatonError('INVALID_ARGUMENT', `${name} must be ${want}, got ${shown}`, { details: { option: name, value } });
}

export function validateLockOptions(options: LockOptions | undefined): NormalizedLockOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw bad('options', 'an object', options);
  const o = options ?? {};
  const timeout = o.timeout ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw bad('timeout', 'a number of milliseconds >= 0 (Infinity waits for ever)', timeout);
  const retryInterval = o.retryInterval ?? DEFAULT_RETRY_INTERVAL_MS;
  if (typeof retryInterval !== 'number' || !Number.isFinite(retryInterval) || retryInterval <= 0) {
    throw bad('retryInterval', 'a finite number of milliseconds > 0', retryInterval);
  }
  const maxRetries = o.maxRetries ?? Infinity;
  if (typeof maxRetries !== 'number' || Number.isNaN(maxRetries) || maxRetries < 0 || (Number.isFinite(maxRetries) && !Number.isInteger(maxRetries))) {
    throw bad('maxRetries', 'a whole number >= 0', maxRetries);
  }
  const type = o.type ?? 'exclusive';
  if (type !== 'exclusive' && type !== 'shared') throw bad('type', "'exclusive' or 'shared'", type);
  const ttl = o.ttl ?? null;
  if (ttl !== null && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)) throw bad('ttl', 'a finite number of milliseconds > 0', ttl);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw bad('signal', 'an AbortSignal', typeof o.signal);
  return { timeout, retryInterval, maxRetries, type, ttl, signal: o.signal };
}
