// The lease a change to a project file needs: a live, exclusive `path:` lease
// whose pattern covers the path (as Confinement resolves it), and, for a
// caller that presented none, who holds the path now.
import type { Coordinator, Lease, LeaseRef } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { pathCovers, pathPatternFor, pathsOverlap } from '../engine/paths.ts';
import { PATH_PREFIX } from '../limits.ts';

/**
 * The lease must be held now (checkLease throws STALE_TOKEN or LEASE_EXPIRED),
 * exclusive, a `path:` lease, and its pattern must cover `rel`; else LEASE_REQUIRED.
 * `rel` is a path as `Confinement.resolve` returns it.
 */
export async function assertCovered(coordinator: Coordinator, rel: string, lease: LeaseRef, options: { action?: string } = {}): Promise<Lease> {
  const held = await coordinator.checkLease(lease);
  const action = options.action ?? 'writing';
  const needed = PATH_PREFIX + pathPatternFor(rel);
  const name = `lease ${held.key} (token ${held.token})`;
  let reason: string | undefined;
  if (!held.key.startsWith(PATH_PREFIX)) reason = `${name} is not a path lease`;
  else if (held.mode !== 'exclusive') reason = `${name} is shared; changing files needs an exclusive one`;
  else if (!pathCovers(held.key.slice(PATH_PREFIX.length), rel)) reason = `${name} does not cover it`;
  if (reason === undefined) return held;
  throw new BatonError('LEASE_REQUIRED', `${action} ${JSON.stringify(rel)} needs an exclusive lease on ${needed} (or a pattern covering it); ${reason}`, {
    details: { path: rel, needed, lease: { key: held.key, token: held.token, mode: held.mode, owner: held.owner } },
  });
}

/** The LEASE_REQUIRED error for a caller that presented no lease: names whoever holds an overlapping path lease now. */
export async function explainMissing(coordinator: Coordinator, rel: string, options: { action?: string } = {}): Promise<BatonError> {
  const action = options.action ?? 'writing';
  const pattern = pathPatternFor(rel);
  const needed = PATH_PREFIX + pattern;
  const leases = await coordinator.listLeases({ prefix: PATH_PREFIX });
  const holders = leases.filter((l) => l.key.startsWith(PATH_PREFIX) && pathsOverlap(l.key.slice(PATH_PREFIX.length), pattern));
  const head = `${action} ${JSON.stringify(rel)} needs an exclusive lease on ${needed} (or a pattern covering it)`;
  const tail = holders.length === 0
    ? '; no one holds an overlapping path lease now: acquire it first'
    : `; ${JSON.stringify(rel)} is reserved by ${holders.map((h) => `${h.owner} (${h.key}, ${h.mode}, token ${h.token})`).join(', ')}`;
  return new BatonError('LEASE_REQUIRED', head + tail, {
    details: {
      path: rel,
      needed,
      holders: holders.map((h) => ({ owner: h.owner, key: h.key, mode: h.mode, token: h.token, sessionId: h.sessionId, expiresAt: h.expiresAt })),
    },
  });
}
