// withGitLock: run git work while holding the coordinator's exclusive `git`
// lease, so concurrent agents in one checkout do not trip over .git/index.lock
// or race on refs. The lease is renewed while the work runs.
import { hostname, userInfo } from 'node:os';
import type { AcquireOptions, Coordinator, Lease } from './coordinator.ts';
import { releaseUnlessGone } from './lease-scope.ts';
import { DEFAULT_LEASE_TTL_MS, GIT_LEASE_KEY } from './limits.ts';

/** `<user>@<host>:<pid>`: who holds a lease taken by this process, when the caller names no owner. */
export function defaultOwner(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return `${user}@${hostname()}:${process.pid}`;
}

/**
 * Acquires the exclusive `git` lease (owner defaults to `<user>@<host>:<pid>`),
 * runs `fn`, and releases the lease however `fn` ends. While `fn` runs the
 * lease is renewed every third of its TTL, so long git commands keep it. If
 * the lease was lost meanwhile (expired while this process was stopped, or
 * force-released), `fn`'s result still stands; the release is then a no-op.
 */
export async function withGitLock<T>(coordinator: Coordinator, fn: (lease: Lease) => Promise<T>, options: Partial<AcquireOptions> = {}): Promise<T> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const lease = await coordinator.acquire(GIT_LEASE_KEY, { ...options, owner: options.owner ?? defaultOwner(), mode: 'exclusive', ttlMs });
  let renewing: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  if (lease.expiresAt !== null) {
    timer = setInterval(() => {
      renewing = coordinator.renew(lease, { ttlMs }).catch(() => clearInterval(timer));
    }, Math.max(50, Math.floor(ttlMs / 3)));
    timer.unref();
  }
  try {
    return await fn(lease);
  } finally {
    clearInterval(timer);
    await renewing;
    await releaseUnlessGone(coordinator, lease);
  }
}
