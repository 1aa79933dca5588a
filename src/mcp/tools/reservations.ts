// Path reservations, the intent map: an agent reserves every path it will
// change (all or nothing), releases them when done, and lists who holds what
// and why. Reservations are leases bound to the agent's session, so they end
// when it disconnects.
import { z } from 'zod';
import type { Lease } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';
import { pathsOverlap } from '../../engine/paths.ts';
import { PATH_PREFIX } from '../../limits.ts';
import { releaseUnlessGone } from '../../lease-scope.ts';
import { mode, projectPath, reason, seconds, waitSeconds } from './inputs.ts';
import { pattern } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool, type ToolContext } from './tool.ts';
import { describeHolder, holderView, iso, ownerFor, pathHolders, sessionsById } from './views.ts';

/** Releases leases this call took, ignoring ones already gone. */
async function releaseQuietly(ctx: ToolContext, leases: Lease[]): Promise<void> {
  for (const lease of leases) {
    ctx.agent.leases.delete(lease.key);
    await ctx.backend.coordinator.release(lease).catch(() => undefined);
  }
}

/** `key`: the held key an agent may ask the holders to release (request_release), when someone else holds it. */
function conflictHint(waited: boolean, key: string | undefined): string {
  const ask = key === undefined ? '' : `; or ask the holder to let go: request_release with key "${key}" and your reason`;
  return waited
    ? `nothing was reserved; the holder kept it for the whole wait: work on something else and try later, or tell your user who holds it${ask}`
    : `nothing was reserved; another agent is working there: pick other work and try later, or call again with wait_seconds to queue for it${ask}`;
}

export const reservePaths = tool({
  name: 'reserve_paths',
  title: 'Reserve files before editing them',
  description: [
    'Reserve files, directories or globs before you change them, so no other agent edits them at the same time.',
    'Call this BEFORE editing, with every path you plan to touch (e.g. ["src/auth/**", "test/auth.test.ts"]); a directory covers everything below it.',
    'All or nothing: if any path is reserved by another agent, nothing is reserved and you get a LOCKED error naming the holder, what they hold and why.',
    'On LOCKED: do not edit those files; pick other work, or call again with wait_seconds to queue until the holder releases.',
    'Reservations are tied to this connection: they are released when you call release_paths or when you exit. Exclusive (default) is needed to write; shared is for reading files you need stable.',
    'Then change files with write_file / delete_file / rename_file (they find your reservation themselves), commit with git_commit, and release_paths when done.',
  ].join(' '),
  input: z.strictObject({
    paths: z.array(projectPath).min(1).max(64).describe('Paths or globs relative to the project root: "src/a.ts", "src/auth", "src/**/*.test.ts".'),
    mode: mode.describe('"exclusive" (default): you will write; "shared": you only read and want no one writing meanwhile.'),
    reason,
    ttl_seconds: seconds(7 * 24 * 3600).optional().describe('Let the reservation lapse after this long even if you stay connected. Default: none (held until released or you disconnect).'),
    wait_seconds: waitSeconds,
  }),
  annotations: { idempotentHint: true },
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const keys = [...new Set(args.paths.map((p) => PATH_PREFIX + pattern(p, ctx.backend.root)))];
    const wanted = args.mode ?? 'exclusive';
    const session = await ctx.agent.session();
    const taken: Lease[] = [];
    const kept: Lease[] = [];
    for (const key of keys) {
      const held = ctx.agent.leases.get(key);
      if (held !== undefined && held.mode === wanted) {
        // Already ours, if it has not lapsed (ttl_seconds) meanwhile.
        const current = await c.checkLease(held).catch(() => undefined);
        if (current !== undefined) {
          kept.push(current);
          continue;
        }
        ctx.agent.leases.delete(key);
      }
      try {
        const lease = await c.acquire(key, {
          owner: ownerFor(ctx.agent.name, args.reason),
          mode: wanted,
          sessionId: session.id,
          ttlMs: args.ttl_seconds === undefined ? 0 : Math.ceil(args.ttl_seconds * 1000),
          timeoutMs: Math.ceil((args.wait_seconds ?? 0) * 1000),
        });
        ctx.agent.leases.set(key, lease);
        taken.push(lease);
      } catch (error) {
        await releaseQuietly(ctx, taken);
        if (isBatonError(error, 'LOCKED') || isBatonError(error, 'LOCK_TIMEOUT')) {
          const holders = (await pathHolders(ctx, [key.slice(PATH_PREFIX.length)])).filter((h) => !(h.mine && h.key === key && h.mode === wanted));
          const mine = holders.filter((h) => h.mine);
          const others = holders.filter((h) => !h.mine);
          if (others.length === 0 && mine.length > 0) {
            throw refusal('LOCKED', `${key} overlaps your own reservation ${mine.map(describeHolder).join(', ')}`, 'you already hold an overlapping reservation: write under it, or release_paths it first and reserve again', { key, holders: mine });
          }
          const what = others.length > 0 ? `${key.slice(PATH_PREFIX.length)} is reserved by ${others.map(describeHolder).join(', ')}` : `${key.slice(PATH_PREFIX.length)} is not available: ${error.message}`;
          throw refusal(error.code, what, conflictHint((args.wait_seconds ?? 0) > 0, others.length > 0 ? key : undefined), { key, holders: others });
        }
        throw error;
      }
    }
    const all = [...kept, ...taken];
    return {
      reserved: all.map((l) => ({ path: l.key.slice(PATH_PREFIX.length), mode: l.mode, token: l.token, expires: l.expiresAt === null ? 'when you release it or disconnect' : iso(l.expiresAt) })),
      next: wanted === 'exclusive' ? 'edit with write_file / delete_file / rename_file, commit with git_commit, then release_paths' : 'read the files; release_paths when done',
    };
  },
});

export const releasePaths = tool({
  name: 'release_paths',
  title: 'Release reservations',
  description:
    'Release reservations you took with reserve_paths, as soon as you are done with those files (after committing), so other agents can work there. Pass the same paths you reserved, or all: true to release every reservation you hold. Paths you do not hold are listed under not_held; nothing else happens to them.',
  input: z.strictObject({
    paths: z.array(projectPath).min(1).max(64).optional().describe('The paths or globs as you reserved them.'),
    all: z.boolean().optional().describe('Release every path reservation you hold.'),
  }),
  annotations: { idempotentHint: true, destructiveHint: false },
  async run(args, ctx) {
    if (args.paths === undefined && args.all !== true) {
      throw refusal('INVALID_ARGUMENT', 'invalid arguments for release_paths: give paths, or all: true', 'pass the paths you reserved, or all: true; nothing was changed');
    }
    const keys = args.all === true
      ? [...ctx.agent.leases.keys()].filter((k) => k.startsWith(PATH_PREFIX))
      : [...new Set(args.paths!.map((p) => PATH_PREFIX + pattern(p, ctx.backend.root)))];
    const released: string[] = [];
    const notHeld: string[] = [];
    for (const key of keys) {
      const lease = ctx.agent.leases.get(key);
      if (lease === undefined) {
        notHeld.push(key.slice(PATH_PREFIX.length));
        continue;
      }
      ctx.agent.leases.delete(key);
      // Gone already (lapsed, or ended with a session): released all the same.
      await releaseUnlessGone(ctx.backend.coordinator, lease);
      released.push(key.slice(PATH_PREFIX.length));
    }
    return { released, ...(notHeld.length > 0 ? { not_held: notHeld } : {}) };
  },
});

export const listReservations = tool({
  name: 'list_reservations',
  title: 'Who is working on what',
  description:
    'The intent map: every reservation and lock held now, by which agent, why, since when, and until when. Use it before planning work to stay out of areas other agents are changing, and after a LOCKED refusal to see who holds a path. Pass path to see only reservations overlapping it.',
  input: z.strictObject({
    path: projectPath.optional().describe('Only reservations overlapping this path or glob.'),
    mine: z.boolean().optional().describe('Only your own reservations and locks.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const filter = args.path === undefined ? undefined : pattern(args.path, ctx.backend.root);
    const [leases, sessions, me] = await Promise.all([c.listLeases(), sessionsById(c), ctx.agent.current()]);
    const now = Date.now();
    const views = leases.map((l) => holderView(l, sessions, me?.id, now)).filter((v) => args.mine !== true || v.mine);
    const reservations = views
      .filter((v) => v.key.startsWith(PATH_PREFIX) && (filter === undefined || pathsOverlap(v.key.slice(PATH_PREFIX.length), filter)))
      .map(({ key, ...rest }) => ({ path: key.slice(PATH_PREFIX.length), ...rest }));
    const locks = filter === undefined ? views.filter((v) => !v.key.startsWith(PATH_PREFIX)).map(({ key, ...rest }) => ({ name: key, ...rest })) : [];
    return { you: ctx.agent.name, reservations, locks };
  },
});
