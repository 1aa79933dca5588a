// Tasks: a queue with priorities, dependencies, claims with tokens, retries.
import { z } from 'zod';
import { MAX_BATCH, MAX_LIST_LIMIT, MAX_PRIORITY, MAX_TASK_ATTEMPTS, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, MAX_TTL_MS, TASK_STATES } from '../limits.ts';
import { approval } from './approvals.ts';
import { artifact, artifactQuery, artifacts } from './artifacts.ts';
import { anyJson, instant, mutation, name, reason, taskId, time, token, ttl } from './fields.ts';

export const taskStatus = z.enum(TASK_STATES);
const title = z.string().min(1).max(MAX_TITLE_LENGTH);
const priority = z.int().min(-MAX_PRIORITY).max(MAX_PRIORITY).describe('Higher is claimed first.');
const maxAttempts = z.int().min(1).max(MAX_TASK_ATTEMPTS);
const runAt = instant.describe('Not claimable before this time (ms since the epoch, before the year 10000).');
const leaseMs = z.int().min(1).max(MAX_TTL_MS).describe('Claim lifetime; renew before it lapses. Default 60 s, at most a year.');

export const task = z.strictObject({
  id: z.int(),
  queue: z.string(),
  title: z.string(),
  payload: anyJson,
  priority: z.int(),
  position: z.number(),
  status: taskStatus,
  runAt: time,
  attempts: z.int(),
  maxAttempts: z.int(),
  dependsOn: z.array(z.int()),
  pendingDeps: z.int().min(0).describe('How many of dependsOn are not done yet. A ready task is claimed only at 0; till then it waits.'),
  reason: z.string().nullable().describe('Why a task is blocked, or the last failure.'),
  result: anyJson,
  lastError: z.string().nullable(),
  claimedBy: z.string().nullable(),
  claimExpiresAt: time.nullable(),
  approval: approval.nullable(),
  version: z.int(),
  createdAt: time,
  updatedAt: time,
  artifacts: z.array(artifact).optional().describe('What its completion made (docs/artifacts.md): on getTask, on listTasks by artifact, and on complete.'),
});

export const taskSpec = z.strictObject({
  queue: name.optional(),
  title,
  payload: anyJson.optional(),
  priority: priority.optional(),
  dependsOn: z.array(taskId).optional(),
  maxAttempts: maxAttempts.optional(),
  runAt: runAt.optional(),
  needsApproval: z.boolean().optional().describe('Not claimable until a person approves it (approveTask); a queue with an approval policy gates every task anyway.'),
});

export const taskPatch = z.strictObject({
  title: title.optional(),
  payload: anyJson.optional(),
  priority: priority.optional(),
  maxAttempts: maxAttempts.optional(),
  runAt: runAt.optional(),
});

export const reorderTarget = z.strictObject({
  priority: priority.optional(),
  before: taskId.optional().describe('Place it just before this task (of the same priority).'),
  after: taskId.optional().describe('Place it just after this task (of the same priority).'),
});

export const claim = z.strictObject({ taskId: z.int(), task, token: z.int(), expiresAt: time }).describe('A claimed task and the token every later call about it presents.');

export const claimRef = z.strictObject({ taskId, token });

export const claimOptions = mutation.extend({
  queue: name.optional(),
  n: z.int().min(1).max(MAX_BATCH).optional(),
  leaseMs: leaseMs.optional(),
});

export const claimLeaseOptions = mutation.extend({ leaseMs: leaseMs.optional() });

export const taskFilter = z.strictObject({
  queue: name.optional(),
  status: z.union([taskStatus, z.array(taskStatus)]).optional(),
  limit: z.int().min(1).max(MAX_LIST_LIMIT).optional(),
  artifact: artifactQuery.optional(),
});

export const taskCounts = z.record(taskStatus, z.int());

export const completeItem = claimRef.extend({ result: anyJson.optional(), artifacts: artifacts.optional() });

export const completeOptions = mutation.extend({ artifacts: artifacts.optional() });

export const failure = z.string().max(MAX_TEXT_LENGTH);

export const failOptions = mutation.extend({ retryInMs: ttl.optional().describe('Retry after this long instead of the backoff (at most a year).') });

export const cancelOptions = mutation.extend({ version: z.int().min(1).optional(), reason: reason.optional() });

export const queueOption = z.strictObject({ queue: name.optional() });
