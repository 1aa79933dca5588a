// Running work under a lease, the same for every Coordinator (the engine, the
// daemon's client, withGitLock): release however the work ends, and a lease
// that lapsed or was taken over meanwhile does not undo the work's result.
import type { AcquireOptions, Coordinator, Lease, LeaseHold, LeaseRef } from './coordinator.ts';
import { isBatonError } from './errors.ts';
import { DEFAULT_LEASE_TTL_MS, HOLDER_MARGIN_MS } from './limits.ts';

/** Releases `lease`; one that is already gone (expired, taken over, force-released) is not an error here. */
export async function releaseUnlessGone(coordinator: Coordinator, lease: LeaseRef): Promise<void> {
  await coordinator.release(lease).catch((error: unknown) => {
    if (!isBatonError(error, 'STALE_TOKEN') && !isBatonError(error, 'LEASE_EXPIRED')) throw error;
  });
}

/**
 * The holder's own deadline: measured from before the request went out (the
 * lease may have been granted at any moment after that), on the monotonic
 * clock, less a margin for the time a release or a fenced write takes to land.
 */
export function holderDeadline(askedAt: number, ttlMs: number): number {
  if (ttlMs === 0) return Infinity;
  return askedAt + ttlMs - Math.min(HOLDER_MARGIN_MS, ttlMs / 10);
}

export async function runWithLease<T>(coordinator: Coordinator, key: string, options: AcquireOptions, fn: (lease: Lease, hold: LeaseHold) => Promise<T>): Promise<T> {
  const askedAt = performance.now();
  const lease = await coordinator.acquire(key, options);
  const deadline = holderDeadline(askedAt, options.ttlMs ?? DEFAULT_LEASE_TTL_MS);
  const expiry = new AbortController();
  const timer = Number.isFinite(deadline) ? setTimeout(() => expiry.abort(new Error(`the lease on ${key} may have lapsed: its TTL ran out by this holder's clock`)), Math.max(0, deadline - performance.now())) : undefined;
  timer?.unref();
  try {
    return await fn(lease, { signal: expiry.signal, deadline });
  } finally {
    clearTimeout(timer);
    await releaseUnlessGone(coordinator, lease);
  }
}
