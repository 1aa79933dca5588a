// The shared task queue: add, claim, renew, complete, fail, list. The
// agent's claims live in its AgentState, so it passes only task ids.
import { z } from 'zod';
import type { Claim } from '../../coordinator.ts';
import { BatonError, isBatonError } from '../../errors.ts';
import { MAX_PRIORITY, TASK_STATES } from '../../limits.ts';
import { artifacts } from '../../schema/artifacts.ts';
import { name } from '../../schema/fields.ts';
import { seconds } from './inputs.ts';
import { refusal } from './refusals.ts';
import { tool, type ToolContext } from './tool.ts';
import { iso, taskView } from './views.ts';

/** Claims last this long unless the agent says otherwise: agents are slow, and a dead agent's claims come back at once anyway. */
const DEFAULT_CLAIM_SECONDS = 30 * 60;

const taskId = z.number().int().positive().describe('The task id (from task_claim or task_list).');

export const taskAdd = tool({
  name: 'task_add',
  title: 'Add a task to the shared queue',
  description:
    'Add a task to the shared queue for any agent to claim: follow-up work you found but will not do now, or work you split for others. Higher priority is claimed first; depends_on holds a task until those tasks are done.',
  input: z.strictObject({
    title: z.string().min(1).max(1000).describe('What to do, in one line.'),
    payload: z.unknown().optional().describe('Any JSON with details (files, acceptance criteria).'),
    priority: z.number().int().min(-MAX_PRIORITY).max(MAX_PRIORITY).optional().describe('Higher first. Default 0.'),
    queue: name.optional().describe('Queue name. Default "default".'),
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

export const taskClaim = tool({
  name: 'task_claim',
  title: 'Claim the next task',
  description:
    'Claim the highest-priority ready task (or the one with task_id). Exactly one agent gets each task. If you disconnect, your claimed tasks go back to the queue. Then: reserve_paths for the files it needs, do the work, git_commit, task_complete (or task_fail). Renew with task_renew for work longer than the claim (default 30 min). Returns task: null when nothing is ready.',
  input: z.strictObject({
    queue: name.optional().describe('Queue name. Default "default".'),
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

export const taskRenew = tool({
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

export const taskComplete = tool({
  name: 'task_complete',
  title: 'Mark your task done',
  description:
    'Mark a task you claimed as done, with an optional result (a summary) and artifacts: the commits ({kind:"commit",sha}, the full sha), files ({kind:"file",path,sha256}), URLs ({kind:"url",url}) or small JSON ({kind:"json",value}) it made, which task_list and baton task list --artifact find it by. Release your reservations (release_paths) once your changes are committed.',
  input: z.strictObject({ task_id: taskId, result: z.unknown().optional().describe('Any JSON: a summary, links.'), artifacts: artifacts.optional() }),
  async run(args, ctx) {
    const claim = claimOf(ctx, args.task_id);
    try {
      const task = await ctx.backend.coordinator.complete(claim, args.result, args.artifacts === undefined ? {} : { artifacts: args.artifacts });
      ctx.agent.claims.delete(args.task_id);
      return { task: taskView(task) };
    } catch (error) {
      claimError(ctx, args.task_id, error);
    }
  },
});

export const taskFail = tool({
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

export const taskList = tool({
  name: 'task_list',
  title: 'List tasks',
  description: 'List tasks in the shared queue, highest priority first: what is ready, who has claimed what, what failed and why.',
  input: z.strictObject({
    status: z.array(z.enum(TASK_STATES)).min(1).optional().describe('Only these states. Default: all.'),
    queue: name.optional(),
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
