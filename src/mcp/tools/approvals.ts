// Asking a person before risky work (docs/approvals.md): request_approval adds
// a task that waits in awaiting_approval, which no agent can claim, until a
// person approves or rejects it (baton task approve|reject, or a token with the
// approver scope); it answers at once or waits a bounded time for the
// decision. approval_status asks again later. An agent cannot decide: the
// approver scope is a person's, and no tool here approves.
import { z } from 'zod';
import type { Coordinator, Task } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';
import { MAX_APPROVAL_WAIT_SECONDS, MAX_TITLE_LENGTH } from '../../limits.ts';
import { name } from '../../schema/fields.ts';
import { tool } from './tool.ts';
import { iso } from './views.ts';

const waitSeconds = z
  .number()
  .min(0)
  .max(MAX_APPROVAL_WAIT_SECONDS)
  .optional()
  .describe(`How long to wait for the decision, at most ${MAX_APPROVAL_WAIT_SECONDS}. Default 0: answer at once with the task id; ask again with approval_status. Many MCP clients give up on a call after 60 s: wait in turns of 50.`);

/** Event types that end the wait for a task's decision (or its end some other way). */
const DECIDED = ['task.approved', 'task.rejected', 'task.cancelled', 'task.removed'];
/** The wait reads the task again at least this often: an event is a wake-up, not the truth. */
const RECHECK_MS = 1_000;

/** The task, once it no longer awaits approval or the time is up (null: removed while waiting; an unknown id is NOT_FOUND). */
async function decided(c: Coordinator, id: number, waitMs: number): Promise<Task | null> {
  const deadline = performance.now() + waitMs;
  let wake: (() => void) | undefined;
  // Subscribed before the first read: a decision made after the read wakes the wait at once.
  const sub = waitMs > 0 ? c.subscribe((e) => e.key === String(id) && wake?.(), { types: DECIDED }) : undefined;
  try {
    for (let read = 0; ; read++) {
      const task = await c.getTask(id).catch((error: unknown) => {
        if (read > 0 && isBatonError(error, 'NOT_FOUND')) return null;
        throw error;
      });
      const left = deadline - performance.now();
      if (task === null || task.status !== 'awaiting_approval' || left <= 0) return task;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, RECHECK_MS));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    sub?.close();
  }
}

function decisionView(id: number, task: Task | null): Record<string, unknown> {
  if (task === null) return { task_id: id, state: 'removed', next: 'the task was removed: the work was not approved; do not do it' };
  const a = task.approval;
  const base = { task_id: id, title: task.title, queue: task.queue };
  if (task.status === 'awaiting_approval') {
    return { ...base, state: 'pending', next: `no decision yet: do not start the work; call approval_status with task_id ${id} (wait_seconds up to 50) to wait for it` };
  }
  if (a?.state === 'rejected') {
    return { ...base, state: 'rejected', decided_by: a.by, reason: a.reason, decided_at: iso(a.at), next: 'rejected: do not do this work; tell the user, or ask again with a changed plan' };
  }
  if (a?.state === 'approved') {
    return {
      ...base, state: 'approved', decided_by: a.by, reason: a.reason, decided_at: iso(a.at), task_status: task.status,
      next: `approved: to do the work yourself, claim it with task_claim task_id ${id}, then task_complete it when done`,
    };
  }
  // Cancelled (or another end) before anyone decided.
  return { ...base, state: task.status, reason: task.reason, next: `the task is ${task.status} without a decision: do not do this work` };
}

export const requestApproval = tool({
  name: 'request_approval',
  title: 'Ask a person to approve work first',
  description:
    'Before risky work (a migration, a release, a change to infrastructure, deleting data), ask a person to approve it. This adds a task that nobody can claim until a person approves it (baton task approve) or rejects it, with a reason. Returns at once with the task id (wait_seconds 0), or waits up to wait_seconds for the decision. Do not start the work until the state is "approved"; on "rejected", read the reason.',
  input: z.strictObject({
    title: z.string().min(1).max(Math.min(1000, MAX_TITLE_LENGTH)).describe('The work you want to do, in one line (e.g. "run the users table migration on production").'),
    details: z.string().max(20_000).optional().describe('What exactly, why, the risk and how to undo it: what the person reads before deciding.'),
    queue: name.optional().describe('Queue of the task. Default "default".'),
    wait_seconds: waitSeconds,
  }),
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const task = await c.addTask({
      title: args.title,
      needsApproval: true,
      payload: { requestedBy: ctx.agent.name, ...(args.details === undefined ? {} : { details: args.details }) },
      ...(args.queue === undefined ? {} : { queue: args.queue }),
    });
    return decisionView(task.id, await decided(c, task.id, (args.wait_seconds ?? 0) * 1000));
  },
});

export const approvalStatus = tool({
  name: 'approval_status',
  title: 'Is my request approved?',
  description: 'The decision on a request_approval task: pending, approved (by whom, why) or rejected (by whom, why). With wait_seconds, waits that long for a decision still pending.',
  input: z.strictObject({
    task_id: z.number().int().positive().describe('The task id request_approval gave you.'),
    wait_seconds: waitSeconds,
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    return decisionView(args.task_id, await decided(ctx.backend.coordinator, args.task_id, (args.wait_seconds ?? 0) * 1000));
  },
});
