// Named locks on things that are not files ("deploy", "db-migrations"). Path
// keys and the git lease are refused here: reserve_paths and git_commit take those.
import { z } from 'zod';
import { isBatonError } from '../../errors.ts';
import { GIT_LEASE_KEY, PATH_PREFIX } from '../../limits.ts';
import { releaseUnlessGone } from '../../lease-scope.ts';
import { mode, reason, seconds, waitSeconds } from './inputs.ts';
import { refusal } from './refusals.ts';
import { tool } from './tool.ts';
import { iso, ownerFor } from './views.ts';

function lockKey(name: string): string {
  if (name.startsWith(PATH_PREFIX)) throw refusal('INVALID_ARGUMENT', `lock name ${JSON.stringify(name)} is a path reservation`, 'use reserve_paths for files; acquire_lock is for named resources like "deploy" or "db-migrations"; nothing was changed');
  if (name === GIT_LEASE_KEY) throw refusal('INVALID_ARGUMENT', 'the "git" lock is taken by git_commit itself', 'call git_commit (or run `baton git -- <args>` in a shell); nothing was changed');
  return name;
}

export const acquireLock = tool({
  name: 'acquire_lock',
  title: 'Take a named lock',
  description:
    'Take a named lock on something that is not a file: "deploy", "db-migrations", "dev-server", "npm-install". Exclusive by default; shared locks can be held by many at once. If another agent holds it you get LOCKED naming the holder: wait (wait_seconds) or do something else. Released by release_lock or when you disconnect. For files use reserve_paths; for git use git_commit.',
  input: z.strictObject({
    name: z.string().min(1).max(1000).describe('The lock name, e.g. "deploy".'),
    mode: mode.describe('"exclusive" (default) or "shared".'),
    reason,
    ttl_seconds: seconds(7 * 24 * 3600).optional().describe('Let the lock lapse after this long. Default: held until released or you disconnect.'),
    wait_seconds: waitSeconds,
  }),
  async run(args, ctx) {
    const key = lockKey(args.name);
    const session = await ctx.agent.session();
    try {
      const lease = await ctx.backend.coordinator.acquire(key, {
        owner: ownerFor(ctx.agent.name, args.reason),
        mode: args.mode ?? 'exclusive',
        sessionId: session.id,
        ttlMs: args.ttl_seconds === undefined ? 0 : Math.ceil(args.ttl_seconds * 1000),
        timeoutMs: Math.ceil((args.wait_seconds ?? 0) * 1000),
      });
      ctx.agent.leases.set(key, lease);
      return { locked: key, mode: lease.mode, token: lease.token, expires: lease.expiresAt === null ? 'when you release it or disconnect' : iso(lease.expiresAt) };
    } catch (error) {
      if (isBatonError(error, 'LOCKED') || isBatonError(error, 'LOCK_TIMEOUT')) {
        const mine = ctx.agent.leases.has(key);
        throw refusal(error.code, mine ? `you already hold ${key}` : error.message, mine ? 'you hold it already: go ahead, and release_lock when done' : `someone else holds it: wait with wait_seconds, or do other work and try later, or ask the holder to let go: request_release with key "${key}" and your reason`, { key });
      }
      throw error;
    }
  },
});

export const releaseLock = tool({
  name: 'release_lock',
  title: 'Release a named lock',
  description: 'Release a lock you took with acquire_lock, as soon as you are done with the resource.',
  input: z.strictObject({ name: z.string().min(1).max(1000).describe('The lock name you acquired.') }),
  annotations: { idempotentHint: true },
  async run(args, ctx) {
    const key = lockKey(args.name);
    const lease = ctx.agent.leases.get(key);
    if (lease === undefined) throw refusal('NOT_FOUND', `you do not hold the lock ${JSON.stringify(key)}`, 'nothing to release (list_reservations with mine: true shows what you hold)', { key });
    ctx.agent.leases.delete(key);
    await releaseUnlessGone(ctx.backend.coordinator, lease);
    return { released: key };
  },
});
