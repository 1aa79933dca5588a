// Token buckets shared by every process. A caller that will wait takes its
// tokens at once, letting the bucket go negative, and sleeps until they
// would have refilled: later callers see a deeper debt and wait longer, so
// waiters are served in arrival order with no polling. The rate, the burst and
// the longest wait are bounded (src/limits.ts), so the debt and every wait
// computed from it stay finite.
import type { RateLimitSpec, RateLimitStatus, RateTakeOptions, RateTakeResult } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { MAX_BURST, MAX_KEY_LENGTH, MAX_RATE, MAX_WAIT_MS, MIN_RATE } from '../limits.ts';
import type { Store, StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { invalid, requireNumber, requireString, requireTimeout } from './validate.ts';
import { sleep } from './waiting.ts';

interface RateRow {
  [column: string]: unknown;
  key: string;
  rate: number;
  burst: number;
  tokens: number;
  updated_at: number;
}

function refilled(row: RateRow, now: number): number {
  return Math.min(row.burst, row.tokens + (Math.max(0, now - row.updated_at) * row.rate) / 1000);
}

function statusOf(row: RateRow, now: number): RateLimitStatus {
  return { key: row.key, rate: row.rate, burst: row.burst, available: refilled(row, now) };
}

export function checkSpec(rate: unknown, burst: unknown): { rate: number; burst: number } {
  return {
    rate: requireNumber('rate', rate, { min: MIN_RATE, max: MAX_RATE }),
    burst: requireNumber('burst', burst, { exclusiveMin: true, max: MAX_BURST }),
  };
}

export function checkKey(key: unknown): string {
  return requireString('key', key, { max: MAX_KEY_LENGTH });
}

/** `k`: the key (the names are part of the idempotency request's hash). */
export function checkSetRateLimit(key: unknown, spec: RateLimitSpec): { k: string; rate: number; burst: number } {
  const k = checkKey(key);
  const { rate, burst } = checkSpec(spec?.rate, spec?.burst);
  return { k, rate, burst };
}

/** `spec`: a limit to set first; `maxWait`: how long a waiting caller accepts to wait (null: it does not wait). */
export function checkTake(key: unknown, options: RateTakeOptions): { k: string; cost: number; spec: { rate: number; burst: number } | undefined; maxWait: number | null } {
  const k = checkKey(key);
  const cost = requireNumber('cost', options.cost ?? 1, { exclusiveMin: true, max: MAX_BURST });
  const spec = options.rate !== undefined || options.burst !== undefined ? checkSpec(options.rate, options.burst) : undefined;
  // A booked wait is one timer: no longer than a timer can count, whatever the caller accepts (Infinity included).
  const maxWait = options.wait ? Math.min(MAX_WAIT_MS, requireTimeout('timeoutMs', options.timeoutMs, MAX_WAIT_MS)) : null;
  return { k, cost, spec, maxWait };
}

export async function setRateLimit(tx: StoreTx, key: string, rate: number, burst: number): Promise<RateLimitStatus> {
  await tx.lock(`rate:${key}`);
  const row = await tx.get<RateRow>('rateGet', { key });
  const tokens = row === undefined ? burst : Math.min(burst, refilled(row, tx.now));
  tx.defer('rateUpsert', { key, rate, burst, tokens, now: tx.now });
  if (row === undefined || row.rate !== rate || row.burst !== burst) await emit(tx, 'ratelimit.set', key, null, { rate, burst });
  return { key, rate, burst, available: tokens };
}

/** Takes `cost` tokens now, or (with `maxWaitMs`) books them and says how long to sleep. */
export async function take(tx: StoreTx, key: string, cost: number, maxWaitMs: number | null, actor: string | null): Promise<RateTakeResult> {
  // The bucket is refilled from its row and written back: nobody else may do the same in between.
  await tx.lock(`rate:${key}`);
  const row = await tx.get<RateRow>('rateGet', { key });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no rate limit ${JSON.stringify(key)}; set one first (rate and burst)`, { details: { key } });
  if (cost > row.burst) throw invalid(`cost ${cost} is more than the burst ${row.burst} of ${JSON.stringify(key)}; it could never be granted`);
  const tokens = refilled(row, tx.now);
  if (tokens >= cost) {
    tx.defer('rateSetTokens', { key, tokens: tokens - cost, now: tx.now });
    return { granted: true, waitedMs: 0 };
  }
  const waitMs = Math.ceil(((cost - tokens) * 1000) / row.rate);
  if (maxWaitMs === null || waitMs > maxWaitMs) {
    await emit(tx, 'ratelimit.throttled', key, actor, { cost, retryAfterMs: waitMs });
    return { granted: false, retryAfterMs: waitMs };
  }
  tx.defer('rateSetTokens', { key, tokens: tokens - cost, now: tx.now });
  await emit(tx, 'ratelimit.queued', key, actor, { cost, waitMs });
  return { granted: true, waitedMs: waitMs };
}

/** A waiter sleeps until the tokens it booked would have refilled; one that gives up (an abort) gives them back. */
export async function waitForBooked(store: Store, key: string, cost: number, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(waitMs, signal);
  } catch (error) {
    await store.write((tx) => refund(tx, key, cost)).catch(() => undefined);
    throw error;
  }
}

/** Gives back tokens booked by a waiter that gave up. */
export async function refund(tx: StoreTx, key: string, cost: number): Promise<void> {
  await tx.lock(`rate:${key}`);
  const row = await tx.get<RateRow>('rateGet', { key });
  if (row !== undefined) await tx.run('rateSetTokens', { key, tokens: Math.min(row.burst, refilled(row, tx.now) + cost), now: tx.now });
}

export async function rateStatus(tx: StoreTx, key: string | undefined): Promise<RateLimitStatus[]> {
  const rows = key === undefined ? await tx.all<RateRow>('rateList') : [await tx.get<RateRow>('rateGet', { key })].filter((r): r is RateRow => r !== undefined);
  return rows.map((r) => statusOf(r, tx.now));
}
