// Running work under a lease, the same for every Coordinator (the engine, the
// daemon's client, withGitLock): release however the work ends, and a lease
// that lapsed or was taken over meanwhile does not undo the work's result.
import type { AcquireOptions, Coordinator, Lease, LeaseRef } from './coordinator.ts';
import { isBatonError } from './errors.ts';

/** Releases `lease`; one that is already gone (expired, taken over, force-released) is not an error here. */
export async function releaseUnlessGone(coordinator: Coordinator, lease: LeaseRef): Promise<void> {
  await coordinator.release(lease).catch((error: unknown) => {
    if (!isBatonError(error, 'STALE_TOKEN') && !isBatonError(error, 'LEASE_EXPIRED')) throw error;
  });
}

export async function runWithLease<T>(coordinator: Coordinator, key: string, options: AcquireOptions, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = await coordinator.acquire(key, options);
  try {
    return await fn(lease);
  } finally {
    await releaseUnlessGone(coordinator, lease);
  }
}
