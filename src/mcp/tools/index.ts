// The MCP tools baton offers coding agents: reservations (the intent map),
// files written under them, named locks, git under the git lease, the task
// queue, token budgets, rate limits, status and events. Each tool has a zod
// input schema (listed to the agent as JSON Schema and checked before anything
// happens) and a description written for the agent: when to use it, what a
// refusal means, what to do next. Failures are BatonErrors; server.ts turns
// them into MCP tool errors whose text starts with the code and ends with a hint.
import { z } from 'zod';
import type { Claim, Coordinator, Lease } from '../../coordinator.ts';
import { BatonError, isBatonError } from '../../errors.ts';
import { pathCovers, pathsOverlap } from '../../engine/paths.ts';
import { pathPatternFor } from '../../engine/paths.ts';
import { GIT_LEASE_KEY, PATH_PREFIX } from '../../limits.ts';
import { releaseUnlessGone } from '../../lease-scope.ts';
import type { AgentState } from './agent.ts';
import { pattern, relativePath } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool, type Tool, type ToolContext } from './tool.ts';
import { budgetView, describeHolder, holderView, iso, ownerFor, pathHolders, sessionsById, taskView } from './views.ts';
import { mode, projectPath, reason, seconds, waitSeconds } from './inputs.ts';

export type { Backend, Tool, ToolAnnotations, ToolContext } from './tool.ts';

/** Claims last this long unless the agent says otherwise: agents are slow, and a dead agent's claims come back at once anyway. */
const DEFAULT_CLAIM_SECONDS = 30 * 60;

const taskId = z.number().int().positive().describe('The task id (from task_claim or task_list).');
const tokens = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------
// Leases held by this agent

function exclusivePathLeases(agent: AgentState): Lease[] {
  return [...agent.leases.values()].filter((l) => l.key.startsWith(PATH_PREFIX) && l.mode === 'exclusive');
}

/** The agent's exclusive reservation covering every one of `paths`, if it holds one. */
function coveringLease(agent: AgentState, paths: string[]): Lease | undefined {
  return exclusivePathLeases(agent).find((l) => paths.every((p) => pathCovers(l.key.slice(PATH_PREFIX.length), p)));
}

/** What to tell an agent whose write was refused. */
function writeHint(error: BatonError, agent: AgentState, paths: string[], lease: Lease | undefined): string {
  const list = JSON.stringify(paths);
  if (error.code === 'STALE_TOKEN' || error.code === 'LEASE_EXPIRED') {
    if (lease !== undefined) agent.leases.delete(lease.key);
    return `your reservation ${lease?.key ?? ''} lapsed or was released; call reserve_paths with ${list} again and re-read the file before writing (someone else may have changed it)`;
  }
  if (error.code === 'LEASE_REQUIRED') {
    const holders = (error.details.holders as Array<{ owner: string }> | undefined) ?? [];
    const shared = [...agent.leases.values()].some((l) => l.key.startsWith(PATH_PREFIX) && l.mode === 'shared' && paths.every((p) => pathCovers(l.key.slice(PATH_PREFIX.length), p)));
    if (holders.length > 0 && !shared) return `another agent has reserved it: do not write around the reservation; work on something else, or call reserve_paths with wait_seconds to queue for it (list_reservations shows who and why)`;
    if (shared) return `your reservation is shared (read-only); release it and call reserve_paths with ${list} and mode "exclusive"`;
    return `call reserve_paths with ${list} first, then retry`;
  }
  return '';
}

async function callFile<T>(agent: AgentState, paths: string[], lease: Lease | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isBatonError(error)) {
      const hint = writeHint(error, agent, paths, lease);
      if (hint !== '' && error.details.hint === undefined) throw new BatonError(error.code, error.message, { details: { ...error.details, hint } });
    }
    throw error;
  }
}

/** Releases leases this call took, ignoring ones already gone. */
async function releaseQuietly(ctx: ToolContext, leases: Lease[]): Promise<void> {
  for (const lease of leases) {
    ctx.agent.leases.delete(lease.key);
    await ctx.backend.coordinator.release(lease).catch(() => undefined);
  }
}

function conflictHint(waited: boolean): string {
  return waited
    ? 'nothing was reserved; the holder kept it for the whole wait: work on something else and try later, or tell your user who holds it'
    : 'nothing was reserved; another agent is working there: pick other work and try later, or call again with wait_seconds to queue for it';
}

// ---------------------------------------------------------------------------
// The tools

const reservePaths = tool({
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
          throw refusal(error.code, what, conflictHint((args.wait_seconds ?? 0) > 0), { key, holders: others });
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

const releasePaths = tool({
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

const listReservations = tool({
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

const writeFile = tool({
  name: 'write_file',
  title: 'Write a file under your reservation',
  description:
    'Create or replace a file atomically (all or nothing, even if you crash mid-way). You must hold an exclusive reservation covering the path (reserve_paths first); it is found automatically. If refused with LEASE_REQUIRED, the message names who holds the path: do not write it another way; reserve it, or leave it to them. Paths are relative to the project root.',
  input: z.strictObject({
    path: projectPath.describe('The file, relative to the project root.'),
    content: z.string().max(1 << 20).describe('The whole new content.'),
    encoding: z.enum(['utf8', 'base64']).optional().describe('"utf8" (default), or "base64" for binary content.'),
  }),
  annotations: { destructiveHint: true, idempotentHint: true },
  async run(args, ctx) {
    const rel = relativePath(args.path, ctx.backend.root);
    const data = args.encoding === 'base64' ? Buffer.from(args.content, 'base64') : args.content;
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [rel]);
    const result = await callFile(ctx.agent, [rel], lease, () => ctx.backend.writeFile(rel, data, lease, ctx.agent.name));
    return { written: result.path, bytes: result.size ?? null, under: lease?.key ?? null };
  },
});

const deleteFile = tool({
  name: 'delete_file',
  title: 'Delete a file under your reservation',
  description:
    'Delete a file. Needs an exclusive reservation covering it (reserve_paths first), found automatically. A LEASE_REQUIRED refusal names the holder: leave the file to them or reserve it.',
  input: z.strictObject({ path: projectPath.describe('The file, relative to the project root.') }),
  annotations: { destructiveHint: true },
  async run(args, ctx) {
    const rel = relativePath(args.path, ctx.backend.root);
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [rel]);
    const result = await callFile(ctx.agent, [rel], lease, () => ctx.backend.deleteFile(rel, lease, ctx.agent.name));
    return { deleted: result.path };
  },
});

const renameFile = tool({
  name: 'rename_file',
  title: 'Move or rename a file under your reservation',
  description:
    'Move or rename a file atomically. Needs one exclusive reservation covering both the old and the new path (e.g. reserve "src/util" to move files inside it). A LEASE_REQUIRED refusal names the holder.',
  input: z.strictObject({
    from: projectPath.describe('The current path, relative to the project root.'),
    to: projectPath.describe('The new path, relative to the project root.'),
  }),
  annotations: { destructiveHint: true },
  async run(args, ctx) {
    const from = relativePath(args.from, ctx.backend.root);
    const to = relativePath(args.to, ctx.backend.root);
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [from, to]);
    if (lease === undefined && exclusivePathLeases(ctx.agent).some((l) => pathCovers(l.key.slice(PATH_PREFIX.length), from) || pathCovers(l.key.slice(PATH_PREFIX.length), to))) {
      throw refusal('LEASE_REQUIRED', `renaming ${JSON.stringify(from)} to ${JSON.stringify(to)} needs one exclusive reservation covering both paths; yours cover only one`, `call reserve_paths with a directory or glob covering both (e.g. their common directory), then retry`, { from, to });
    }
    const result = await callFile(ctx.agent, [from, to], lease, () => ctx.backend.renameFile(from, to, lease, ctx.agent.name));
    return { renamed: result.from ?? from, to: result.path };
  },
});

function lockKey(name: string): string {
  if (name.startsWith(PATH_PREFIX)) throw refusal('INVALID_ARGUMENT', `lock name ${JSON.stringify(name)} is a path reservation`, 'use reserve_paths for files; acquire_lock is for named resources like "deploy" or "db-migrations"; nothing was changed');
  if (name === GIT_LEASE_KEY) throw refusal('INVALID_ARGUMENT', 'the "git" lock is taken by git_commit itself', 'call git_commit (or run `baton git -- <args>` in a shell); nothing was changed');
  return name;
}

const acquireLock = tool({
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
        throw refusal(error.code, mine ? `you already hold ${key}` : error.message, mine ? 'you hold it already: go ahead, and release_lock when done' : 'someone else holds it: wait with wait_seconds, or do other work and try later', { key });
      }
      throw error;
    }
  },
});

const releaseLock = tool({
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

const gitCommit = tool({
  name: 'git_commit',
  title: 'Commit files under the git lock',
  description:
    'Stage the given paths and commit them, holding the project-wide git lock so no other agent runs git at the same moment (no index.lock errors, no mixed commits). Commit only the files you changed; a path another agent has reserved is refused with LOCKED (committing it would take their unfinished work). Use this instead of running git add/commit yourself.',
  input: z.strictObject({
    message: z.string().min(1).max(65_536).describe('The commit message.'),
    paths: z.array(projectPath).min(1).max(1000).describe('Files or directories to stage and commit, relative to the project root.'),
  }),
  async run(args, ctx) {
    const paths = args.paths.map((p) => relativePath(p, ctx.backend.root));
    await ctx.agent.session();
    const others = (await pathHolders(ctx, paths.map(pathPatternFor))).filter((h) => !h.mine && h.mode === 'exclusive');
    if (others.length > 0) {
      throw refusal('LOCKED', `cannot commit: ${others.map(describeHolder).join(', ')} reserved part of it`, 'commit only the files you changed yourself, or wait until that agent releases them; nothing was committed', { holders: others });
    }
    try {
      const result = await ctx.backend.gitCommit(args.message, paths, ctx.agent.name);
      return { commit: result.commit, output: result.output.trim() };
    } catch (error) {
      if (isBatonError(error, 'IO_ERROR')) throw new BatonError('IO_ERROR', error.message, { details: { ...error.details, hint: 'git refused; check the paths (nothing to commit? a path that does not exist?) and retry' } });
      if (isBatonError(error, 'LOCK_TIMEOUT') || isBatonError(error, 'LOCKED')) throw new BatonError(error.code, error.message, { details: { hint: 'another git operation held the git lock the whole time; retry shortly' } });
      throw error;
    }
  },
});

// --- tasks ---

const taskAdd = tool({
  name: 'task_add',
  title: 'Add a task to the shared queue',
  description:
    'Add a task to the shared queue for any agent to claim: follow-up work you found but will not do now, or work you split for others. Higher priority is claimed first; depends_on holds a task until those tasks are done.',
  input: z.strictObject({
    title: z.string().min(1).max(1000).describe('What to do, in one line.'),
    payload: z.unknown().optional().describe('Any JSON with details (files, acceptance criteria).'),
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('Higher first. Default 0.'),
    queue: z.string().min(1).max(256).optional().describe('Queue name. Default "default".'),
    depends_on: z.array(z.number().int().positive()).max(100).optional().describe('Task ids that must be done first.'),
    max_attempts: z.number().int().min(1).max(100).optional().describe('Attempts before the task is dead. Default 3.'),
  }),
  async run(args, ctx) {
    const task = await ctx.backend.coordinator.addTask({
      title: args.title,
      ...(args.payload === undefined ? {} : { payload: args.payload }),
      ...(args.priority === undefined ? {} : { priority: args.priority }),
      ...(args.queue === undefined ? {} : { queue: args.queue }),
      ...(args.depends_on === undefined ? {} : { dependsOn: args.depends_on }),
      ...(args.max_attempts === undefined ? {} : { maxAttempts: args.max_attempts }),
    });
    return { task: taskView(task) };
  },
});

const taskClaim = tool({
  name: 'task_claim',
  title: 'Claim the next task',
  description:
    'Claim the highest-priority ready task (or the one with task_id). Exactly one agent gets each task. If you disconnect, your claimed tasks go back to the queue at once. Then: reserve_paths for the files it needs, do the work, git_commit, task_complete (or task_fail). Renew with task_renew for work longer than the claim (default 30 min). Returns task: null when nothing is ready.',
  input: z.strictObject({
    queue: z.string().min(1).max(256).optional().describe('Queue name. Default "default".'),
    task_id: z.number().int().positive().optional().describe('Claim this task (refused with CONFLICT if it is not ready).'),
    lease_seconds: seconds(7 * 24 * 3600).optional().describe('How long the claim lasts before it must be renewed. Default 1800.'),
  }),
  async run(args, ctx) {
    const session = await ctx.agent.session();
    const leaseMs = Math.ceil((args.lease_seconds ?? DEFAULT_CLAIM_SECONDS) * 1000);
    const c = ctx.backend.coordinator;
    let claims: Claim[];
    try {
      claims = args.task_id === undefined ? await c.claim(session.id, { n: 1, leaseMs, ...(args.queue === undefined ? {} : { queue: args.queue }) }) : await c.claimByIds(session.id, [args.task_id], { leaseMs });
    } catch (error) {
      if (isBatonError(error, 'CONFLICT')) throw new BatonError('CONFLICT', error.message, { details: { ...error.details, hint: 'that task is not claimable now (claimed by another agent, done, or waiting on dependencies): call task_claim without task_id, or task_list' } });
      throw error;
    }
    const claim = claims[0];
    if (claim === undefined) return { task: null, next: 'no task is ready: check task_list, or add work with task_add' };
    ctx.agent.claims.set(claim.taskId, claim);
    return { task: taskView(claim.task), claim_expires: iso(claim.expiresAt), next: 'reserve_paths for the files this task touches, do the work, git_commit, then task_complete' };
  },
});

function claimOf(ctx: ToolContext, id: number): Claim {
  const claim = ctx.agent.claims.get(id);
  if (claim === undefined) throw refusal('NOT_FOUND', `you hold no claim on task ${id}`, 'claim it first with task_claim (task_list shows its state)', { taskId: id });
  return claim;
}

function claimError(ctx: ToolContext, id: number, error: unknown): never {
  if (isBatonError(error, 'STALE_TOKEN') || isBatonError(error, 'LEASE_EXPIRED')) {
    ctx.agent.claims.delete(id);
    throw new BatonError(error.code, error.message, { details: { ...error.details, hint: 'your claim lapsed and the task went back to the queue (or to another agent); check task_list before doing more on it, and use task_renew for long work' } });
  }
  throw error;
}

const taskRenew = tool({
  name: 'task_renew',
  title: 'Extend a task claim',
  description: 'Extend your claim on a task you are still working on, before it expires (task_claim says when). A lapsed claim goes back to the queue and another agent may take it.',
  input: z.strictObject({ task_id: taskId, lease_seconds: seconds(7 * 24 * 3600).optional().describe('New claim length from now. Default 1800.') }),
  annotations: { idempotentHint: true },
  async run(args, ctx) {
    const claim = claimOf(ctx, args.task_id);
    try {
      const renewed = await ctx.backend.coordinator.renewClaim(claim, { leaseMs: Math.ceil((args.lease_seconds ?? DEFAULT_CLAIM_SECONDS) * 1000) });
      ctx.agent.claims.set(args.task_id, renewed);
      return { task_id: args.task_id, claim_expires: iso(renewed.expiresAt) };
    } catch (error) {
      claimError(ctx, args.task_id, error);
    }
  },
});

const taskComplete = tool({
  name: 'task_complete',
  title: 'Mark your task done',
  description: 'Mark a task you claimed as done, with an optional result (e.g. the commit sha and a summary). Release your reservations (release_paths) once your changes are committed.',
  input: z.strictObject({ task_id: taskId, result: z.unknown().optional().describe('Any JSON: commit sha, summary, links.') }),
  async run(args, ctx) {
    const claim = claimOf(ctx, args.task_id);
    try {
      const task = await ctx.backend.coordinator.complete(claim, args.result);
      ctx.agent.claims.delete(args.task_id);
      return { task: taskView(task) };
    } catch (error) {
      claimError(ctx, args.task_id, error);
    }
  },
});

const taskFail = tool({
  name: 'task_fail',
  title: 'Give a task back as failed',
  description: 'Give up a task you claimed, saying why. It is retried later (by any agent) until its attempts run out, then marked dead. Use it when you are blocked or cannot finish, so the task does not sit claimed.',
  input: z.strictObject({
    task_id: taskId,
    error: z.string().min(1).max(10_000).describe('What went wrong, for whoever retries it.'),
    retry_in_seconds: z.number().min(0).max(30 * 24 * 3600).optional().describe('Not claimable again before this. Default: exponential backoff.'),
  }),
  async run(args, ctx) {
    const claim = claimOf(ctx, args.task_id);
    try {
      const task = await ctx.backend.coordinator.fail(claim, args.error, args.retry_in_seconds === undefined ? {} : { retryInMs: Math.ceil(args.retry_in_seconds * 1000) });
      ctx.agent.claims.delete(args.task_id);
      return { task: taskView(task) };
    } catch (error) {
      claimError(ctx, args.task_id, error);
    }
  },
});

const taskList = tool({
  name: 'task_list',
  title: 'List tasks',
  description: 'List tasks in the shared queue, highest priority first: what is ready, who has claimed what, what failed and why.',
  input: z.strictObject({
    status: z.array(z.enum(['ready', 'claimed', 'done', 'dead', 'cancelled', 'blocked'])).min(1).optional().describe('Only these states. Default: all.'),
    queue: z.string().min(1).max(256).optional(),
    limit: z.number().int().min(1).max(1000).optional().describe('At most this many. Default 50.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const tasks = await ctx.backend.coordinator.listTasks({
      limit: args.limit ?? 50,
      ...(args.status === undefined ? {} : { status: args.status }),
      ...(args.queue === undefined ? {} : { queue: args.queue }),
    });
    return { tasks: tasks.map(taskView), yours: [...ctx.agent.claims.keys()] };
  },
});

// --- budgets and rate limits ---

const budgetStatus = tool({
  name: 'budget_status',
  title: 'Token budgets',
  description: 'How much of the shared token budgets is used, reserved and left (overall, per agent, per model). Check it before starting expensive work.',
  input: z.strictObject({
    agent: z.string().min(1).max(256).optional().describe('Only budgets that apply to this agent.'),
    model: z.string().min(1).max(256).optional().describe('Only budgets that apply to this model.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const budgets = await ctx.backend.coordinator.budgetStatus({ ...(args.agent === undefined ? {} : { agent: args.agent }), ...(args.model === undefined ? {} : { model: args.model }) });
    return { budgets: budgets.map(budgetView) };
  },
});

const budgetReserve = tool({
  name: 'budget_reserve',
  title: 'Reserve tokens before spending them',
  description:
    'Reserve an estimate of tokens before an expensive step (a sub-agent, a large generation), so concurrent agents cannot overshoot the budget together. Refused with BUDGET_EXCEEDED when it would pass a limit: stop, or ask your user. Afterwards call budget_commit with the actual use.',
  input: z.strictObject({
    estimate: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe('Tokens you expect to use.'),
    model: z.string().min(1).max(256).optional(),
    agent: z.string().min(1).max(256).optional().describe('Budget agent name. Default: your agent name.'),
    ttl_seconds: seconds(24 * 3600).optional().describe('An uncommitted reservation stops counting after this. Default 600.'),
  }),
  async run(args, ctx) {
    const r = await ctx.backend.coordinator.reserve({
      agent: args.agent ?? ctx.agent.name,
      estimate: args.estimate,
      ...(args.model === undefined ? {} : { model: args.model }),
      ...(args.ttl_seconds === undefined ? {} : { ttlMs: Math.ceil(args.ttl_seconds * 1000) }),
    });
    return { reservation_id: r.id, estimate: r.estimate, expires: iso(r.expiresAt), next: 'call budget_commit with this reservation_id and the tokens actually used' };
  },
});

const budgetCommit = tool({
  name: 'budget_commit',
  title: 'Record the tokens a reservation used',
  description: 'Record the tokens actually used against a reservation from budget_reserve; the estimate is replaced by the actual use.',
  input: z.strictObject({
    reservation_id: z.string().min(1).max(256),
    prompt_tokens: tokens,
    completion_tokens: tokens,
  }),
  async run(args, ctx) {
    const result = await ctx.backend.coordinator.commitReservation(args.reservation_id, { promptTokens: args.prompt_tokens, completionTokens: args.completion_tokens });
    return { status: result.status === null ? null : budgetView(result.status) };
  },
});

const budgetReport = tool({
  name: 'budget_report',
  title: 'Report token use',
  description: 'Record tokens you used without a reservation (e.g. after each step). The answer tells you if a budget is near its limit (warning) or over it (exceeded): then stop spending and tell your user.',
  input: z.strictObject({
    model: z.string().min(1).max(256),
    prompt_tokens: tokens,
    completion_tokens: tokens,
    agent: z.string().min(1).max(256).optional().describe('Default: your agent name.'),
  }),
  async run(args, ctx) {
    const result = await ctx.backend.coordinator.report({ agent: args.agent ?? ctx.agent.name, model: args.model, promptTokens: args.prompt_tokens, completionTokens: args.completion_tokens });
    return { status: result.status === null ? null : budgetView(result.status), budgets: result.budgets.map(budgetView) };
  },
});

const rateLimitTake = tool({
  name: 'rate_limit_take',
  title: 'Take from a shared rate limit',
  description:
    'Take from a rate limit every agent shares (a token bucket by key, e.g. "github-api"), before calling that external service. granted: false means slow down: wait retry_after_ms and try again, or pass wait_seconds to wait in line. rate and burst create or change the limit.',
  input: z.strictObject({
    key: z.string().min(1).max(1024).describe('The limit\'s name, e.g. "github-api".'),
    cost: z.number().positive().max(1_000_000).optional().describe('Tokens to take. Default 1.'),
    wait_seconds: z.number().min(0).max(3600).optional().describe('Wait in line up to this long. Default 0: answer at once.'),
    rate: z.number().positive().max(1_000_000).optional().describe('Tokens per second (sets the limit).'),
    burst: z.number().positive().max(1_000_000).optional().describe('Bucket size (sets the limit).'),
  }),
  async run(args, ctx) {
    const wait = (args.wait_seconds ?? 0) > 0;
    const result = await ctx.backend.coordinator.take(args.key, {
      ...(args.cost === undefined ? {} : { cost: args.cost }),
      ...(args.rate === undefined ? {} : { rate: args.rate }),
      ...(args.burst === undefined ? {} : { burst: args.burst }),
      ...(wait ? { wait: true, timeoutMs: Math.ceil(args.wait_seconds! * 1000) } : {}),
    });
    return result.granted ? { granted: true, waited_ms: result.waitedMs } : { granted: false, retry_after_ms: result.retryAfterMs };
  },
});

// --- status and events ---

const status = tool({
  name: 'status',
  title: 'Coordination status',
  description: 'One view of the project\'s coordination: the daemon, connected agents, reservations and locks, tasks by state, budgets and rate limits. Also readable as the resource baton://status.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true },
  async run(_args, ctx) {
    const [s, me] = await Promise.all([ctx.backend.status(), ctx.agent.current()]);
    return { you: { agent: ctx.agent.name, session_id: me?.id ?? null, reservations: [...ctx.agent.leases.keys()], claims: [...ctx.agent.claims.keys()] }, ...s };
  },
});

/** The newest event seq, found by galloping from the last one seen (the log is contiguous above its pruned start). */
async function latestSeq(c: Coordinator, hint: number): Promise<number> {
  const exists = async (seq: number): Promise<boolean> => seq === 0 || (await c.events({ after: seq - 1, limit: 1 })).length > 0;
  let lo = hint > 0 && (await exists(hint)) ? hint : 0;
  let step = 1024;
  let hi = lo + step;
  while (await exists(hi)) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const recentEvents = tool({
  name: 'recent_events',
  title: 'What happened recently',
  description:
    'The newest events: reservations taken and released, files changed (fs.changed, with who changed them), tasks added, claimed, done, agents joining and leaving, commits. Filter by type prefix (e.g. ["fs.", "task."]). Pass after (the last_seq from a previous call) to get only what is new since.',
  input: z.strictObject({
    types: z.array(z.string().min(1).max(256)).max(32).optional().describe('Type prefixes such as "lease.", "task.", "fs.changed", "agent.".'),
    after: z.number().int().min(0).optional().describe('Only events after this seq (the last_seq of an earlier answer).'),
    limit: z.number().int().min(1).max(500).optional().describe('At most this many. Default 50.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const limit = args.limit ?? 50;
    const types = args.types ?? [];
    let events;
    if (args.after !== undefined) {
      events = await c.events({ after: args.after, limit, types });
    } else {
      const last = await latestSeq(c, ctx.agent.lastSeq);
      // Read back from the end, widening until `limit` events match or the log's start is reached.
      let window = limit;
      for (;;) {
        const from = Math.max(0, last - window);
        events = await c.events({ after: from, limit: 100_000, types });
        if (events.length >= limit || from === 0) break;
        window *= 4;
      }
      events = events.slice(-limit);
    }
    const lastSeq = events.at(-1)?.seq ?? args.after ?? ctx.agent.lastSeq;
    ctx.agent.lastSeq = Math.max(ctx.agent.lastSeq, lastSeq);
    return {
      events: events.map((e) => ({ seq: e.seq, at: iso(e.at), type: e.type, key: e.key, actor: e.actor, data: e.data })),
      last_seq: lastSeq,
    };
  },
});

export const tools: Tool[] = [
  reservePaths, releasePaths, listReservations, writeFile, deleteFile, renameFile, acquireLock, releaseLock, gitCommit,
  taskAdd, taskClaim, taskRenew, taskComplete, taskFail, taskList, budgetStatus, budgetReserve, budgetCommit, budgetReport, rateLimitTake, status, recentEvents,
];

export const toolsByName = new Map(tools.map((t) => [t.name, t]));
