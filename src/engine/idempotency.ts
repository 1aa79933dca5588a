// Idempotent mutations: the result of the first call is stored in the same
// transaction as its effects, keyed by the caller's idempotency key.
import { hash } from 'node:crypto';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { IDEMPOTENCY_TTL_MS, MAX_IDEMPOTENCY_KEY_LENGTH } from '../limits.ts';
import { requireString } from './validate.ts';

export function requestHash(operation: string, request: unknown): string {
  const text = JSON.stringify([operation, request], (_key, value: unknown) => (value instanceof AbortSignal ? undefined : value));
  return hash('sha256', text, 'hex');
}

/**
 * Runs `act` unless the key was seen with the same request within the TTL,
 * in which case the first result is returned; a different request under the
 * same key is refused.
 */
export async function idempotent<T>(tx: StoreTx, key: string | undefined, operation: string, request: unknown, act: () => Promise<T>): Promise<T> {
  const seen = await recall<T>(tx, key, operation, request);
  if (seen.hit) return seen.value;
  const result = await act();
  await remember(tx, key, operation, request, result);
  return result;
}

/** The stored result of an earlier call with this key, if any. */
export async function recall<T>(tx: StoreTx, key: string | undefined, operation: string, request: unknown): Promise<{ hit: true; value: T } | { hit: false }> {
  if (key === undefined) return { hit: false };
  requireString('idempotencyKey', key, { max: MAX_IDEMPOTENCY_KEY_LENGTH });
  // Two nodes given one key at once: the second waits here, then finds the first's record.
  await tx.lock(`idem:${key}`);
  const seen = await tx.get<{ request_hash: string; result: string; created_at: number }>('idemGet', { key });
  if (seen === undefined || seen.created_at <= tx.now - IDEMPOTENCY_TTL_MS) return { hit: false };
  if (seen.request_hash !== requestHash(operation, request)) {
    // Named by what the caller sent (the key, when): the operation recorded is
    // an engine method (addTask records as addTasks), not the caller's word.
    const ago = Math.max(0, Math.round((tx.now - seen.created_at) / 1000));
    throw new BatonError('IDEMPOTENCY_MISMATCH', `idempotency key ${JSON.stringify(key)} was used ${ago} s ago for a different request; a key names one request for ${IDEMPOTENCY_TTL_MS / 60_000} minutes: send a new key with a new request`, {
      details: { idempotencyKey: key },
    });
  }
  return { hit: true, value: (seen.result === 'undefined' ? undefined : JSON.parse(seen.result)) as T };
}

export async function remember(tx: StoreTx, key: string | undefined, operation: string, request: unknown, result: unknown): Promise<void> {
  if (key === undefined) return;
  await rememberHashed(tx, key, requestHash(operation, request), result);
}

/** As remember, with the request's hash taken earlier (a lease handed to a waiter). */
export async function rememberHashed(tx: StoreTx, key: string, hash: string, result: unknown): Promise<void> {
  tx.defer('idemInsert', { key, hash, result: result === undefined ? 'undefined' : JSON.stringify(result), now: tx.now });
}

export async function pruneIdempotency(tx: StoreTx): Promise<number> {
  return (await tx.run('idemPrune', { before: tx.now - IDEMPOTENCY_TTL_MS })).changes;
}
