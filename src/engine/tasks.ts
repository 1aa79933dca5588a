// The task queue: what a task is (its row and the Task made from it), the
// checks on every task argument, and the reads. Adding and editing tasks is
// in task-edits.ts, claiming in task-claims.ts, completion, failure and
// retries in task-outcomes.ts, dependencies in task-dependencies.ts. Every
// transition checks the row's version, so a store whose claim is not
// serialized (the planned PostgreSQL store, with SKIP LOCKED) still changes each task once.
import type { ClaimOptions, ClaimRef, Task, TaskFilter, TaskPatch, TaskSpec, TaskStatus } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import {
  DEFAULT_CLAIM_MS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_QUEUE,
  MAX_BATCH,
  MAX_LIST_LIMIT,
  MAX_NAME_LENGTH,
  MAX_PRIORITY,
  MAX_TASK_ATTEMPTS,
  MAX_TEXT_LENGTH,
  MAX_TIME_MS,
  MAX_TITLE_LENGTH,
  MAX_TTL_MS,
  TASK_STATES,
} from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { approvalFromRow, checkNeedsApproval } from './approval-row.ts';
import { invalid, optionalInt, optionalReason, requireInt, requireOneOf, requireSessionId, requireString, toJson } from './validate.ts';

export interface TaskRow {
  [column: string]: unknown;
  id: number;
  queue: string;
  title: string;
  payload: string | null;
  depends_on: string;
  priority: number;
  position: number;
  status: TaskStatus;
  run_at: number;
  attempts: number;
  max_attempts: number;
  pending_deps: number;
  reason: string | null;
  result: string | null;
  last_error: string | null;
  claimed_by: string | null;
  claim_token: number;
  claim_expires_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}

function parse(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function taskFromRow(row: TaskRow): Task {
  return {
    id: row.id,
    queue: row.queue,
    title: row.title,
    payload: parse(row.payload),
    priority: row.priority,
    position: row.position,
    status: row.status,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    dependsOn: JSON.parse(row.depends_on) as number[],
    pendingDeps: row.pending_deps,
    reason: row.reason,
    result: parse(row.result),
    lastError: row.last_error,
    claimedBy: row.claimed_by,
    claimExpiresAt: row.claim_expires_at,
    approval: approvalFromRow(row),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// --- argument checks, made before the transaction -----------------------

export function checkQueue(queue: unknown): string {
  return queue === undefined ? DEFAULT_QUEUE : requireString('queue', queue, { max: MAX_NAME_LENGTH });
}

/** A queue to look at, or null for every queue. */
export function checkQueueFilter(queue: unknown): string | null {
  return queue === undefined ? null : checkQueue(queue);
}

export function checkId(id: unknown): number {
  return requireInt('task id', id, { min: 1 });
}

function checkPriority(name: string, priority: unknown): number {
  return requireInt(name, priority, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
}

export interface NewTask {
  queue: string;
  title: string;
  payload: string | null;
  priority: number;
  dependsOn: number[];
  maxAttempts: number;
  runAt: number | undefined;
  /** Asked for approval (task-approvals.ts; a queue's policy may require it anyway). */
  needsApproval: boolean;
}

export function checkSpec(spec: TaskSpec, index?: number): NewTask {
  const where = index === undefined ? '' : ` (task ${index})`;
  if (typeof spec !== 'object' || spec === null) throw invalid(`a task spec { title, ... } is required${where}`);
  const dependsOn = spec.dependsOn ?? [];
  if (!Array.isArray(dependsOn)) throw invalid(`dependsOn must be an array of task ids${where}`);
  return {
    queue: checkQueue(spec.queue),
    title: requireString(`title${where}`, spec.title, { max: MAX_TITLE_LENGTH }),
    payload: toJson(`payload${where}`, spec.payload),
    priority: optionalInt(`priority${where}`, spec.priority, 0, { min: -MAX_PRIORITY, max: MAX_PRIORITY }),
    dependsOn: [...new Set(dependsOn.map((d) => checkId(d)))],
    maxAttempts: optionalInt(`maxAttempts${where}`, spec.maxAttempts, DEFAULT_MAX_ATTEMPTS, { min: 1, max: MAX_TASK_ATTEMPTS }),
    runAt: spec.runAt === undefined ? undefined : requireInt(`runAt${where}`, spec.runAt, { max: MAX_TIME_MS }),
    needsApproval: checkNeedsApproval(spec.needsApproval, where),
  };
}

export function checkSpecs(specs: TaskSpec[]): NewTask[] {
  if (!Array.isArray(specs) || specs.length === 0) throw invalid('addTasks needs a non-empty array of task specs');
  return specs.map((s, i) => checkSpec(s, specs.length > 1 ? i : undefined));
}

export interface CheckedFilter {
  queue: string | null;
  statuses: TaskStatus[] | undefined;
  limit: number;
}

export function checkFilter(filter: TaskFilter): CheckedFilter {
  const statuses = filter.status === undefined ? undefined : Array.isArray(filter.status) ? filter.status : [filter.status];
  for (const s of statuses ?? []) requireOneOf('status', s, TASK_STATES);
  const queue = checkQueueFilter(filter.queue);
  const limit = optionalInt('limit', filter.limit, DEFAULT_LIST_LIMIT, { min: 1, max: MAX_LIST_LIMIT });
  return { queue, statuses, limit };
}

/** The version a caller read, which a change must still find. */
function checkVersionArg(version: unknown): number {
  return requireInt('version', version, { min: 1 });
}

/** The task and version removeTask is given. */
export function checkRemove(id: unknown, version: unknown): { id: number; version: number } {
  return { id: checkId(id), version: checkVersionArg(version) };
}

const PATCH_FIELDS = new Set(['title', 'payload', 'priority', 'maxAttempts', 'runAt']);

/** The columns a patch sets (only those it gives). */
export type RowChanges = Partial<Pick<TaskRow, 'title' | 'payload' | 'priority' | 'max_attempts' | 'run_at'>>;

export function checkUpdate(id: unknown, version: unknown, patch: TaskPatch): RowChanges {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('a patch object { title?, payload?, priority?, maxAttempts?, runAt? } is required');
  // A misspelt or unsupported field (status, dependsOn) would otherwise be dropped silently, and the version bumped for nothing.
  for (const [name, value] of Object.entries(patch)) {
    if (value !== undefined && !PATCH_FIELDS.has(name)) throw invalid(`a task patch has no field ${JSON.stringify(name)}; it takes ${[...PATCH_FIELDS].join(', ')}`);
  }
  checkId(id);
  checkVersionArg(version);
  const changes: RowChanges = {};
  if (patch.title !== undefined) changes.title = requireString('title', patch.title, { max: MAX_TITLE_LENGTH });
  if (patch.payload !== undefined) changes.payload = toJson('payload', patch.payload);
  if (patch.priority !== undefined) changes.priority = checkPriority('priority', patch.priority);
  if (patch.maxAttempts !== undefined) changes.max_attempts = requireInt('maxAttempts', patch.maxAttempts, { min: 1, max: MAX_TASK_ATTEMPTS });
  if (patch.runAt !== undefined) changes.run_at = requireInt('runAt', patch.runAt, { max: MAX_TIME_MS });
  return changes;
}

/** Where reorderTask moves a task: a new priority, and/or next to an anchor task (`before` says which side). */
export interface Placement {
  priority: number | undefined;
  anchor: number | undefined;
  before: boolean;
}

export function checkReorder(id: unknown, version: unknown, to: { priority?: number; before?: number; after?: number }): Placement {
  const task = checkId(id);
  checkVersionArg(version);
  if (typeof to !== 'object' || to === null) throw invalid('reorder needs { priority?, before?, after? }');
  if (to.before !== undefined && to.after !== undefined) throw invalid('give before or after, not both');
  const anchorId = to.before ?? to.after;
  const anchor = anchorId === undefined ? undefined : checkId(anchorId);
  if (anchor === task) throw invalid(`task ${task} cannot be placed ${to.before !== undefined ? 'before' : 'after'} itself`);
  const priority = to.priority === undefined ? undefined : checkPriority('priority', to.priority);
  if (anchor === undefined && priority === undefined) throw invalid('reorder needs a priority, before or after');
  return { priority, anchor, before: to.before !== undefined };
}

/** `version`: the one the caller read, if it gave one. */
export function checkCancel(id: unknown, options: { version?: number; reason?: string }): { id: number; version: number | undefined; reason: string } {
  const reason = optionalReason(options.reason, 'cancelled');
  return { id: checkId(id), version: options.version === undefined ? undefined : checkVersionArg(options.version), reason };
}

export function checkClaim(sessionId: unknown, options: ClaimOptions): { sessionId: string; queue: string; n: number; leaseMs: number } {
  const queue = checkQueue(options.queue);
  const n = optionalInt('n', options.n, 1, { min: 1, max: MAX_BATCH });
  const leaseMs = checkLeaseMs(options);
  return { sessionId: requireSessionId(sessionId), queue, n, leaseMs };
}

/** `checked`: the ids, each once. */
export function checkClaimByIds(sessionId: unknown, ids: number[], options: { leaseMs?: number }): { sessionId: string; checked: number[]; leaseMs: number } {
  if (!Array.isArray(ids) || ids.length === 0) throw invalid('claimByIds needs a non-empty array of task ids');
  const checked = [...new Set(ids.map(checkId))];
  const leaseMs = checkLeaseMs(options);
  return { sessionId: requireSessionId(sessionId), checked, leaseMs };
}

function checkLeaseMs(options: { leaseMs?: number }): number {
  return optionalInt('leaseMs', options.leaseMs, DEFAULT_CLAIM_MS, { min: 1, max: MAX_TTL_MS });
}

export function checkClaimRef(ref: unknown): ClaimRef {
  if (typeof ref !== 'object' || ref === null) throw invalid('a claim reference { taskId, token } is required');
  const { taskId, token } = ref as { taskId?: unknown; token?: unknown };
  return { taskId: checkId(taskId), token: requireInt('token', token, { min: 1 }) };
}

export function checkRenewClaim(claim: unknown, options: { leaseMs?: number }): { ref: ClaimRef; leaseMs: number } {
  const ref = checkClaimRef(claim);
  return { ref, leaseMs: checkLeaseMs(options) };
}

/** A claim to complete, with the result to store. */
export interface Completion {
  ref: ClaimRef;
  result: unknown;
}

export function checkCompletion(claim: unknown, result: unknown): Completion {
  return { ref: checkClaimRef(claim), result };
}

export function checkCompletions(items: Array<ClaimRef & { result?: unknown }>): Completion[] {
  if (!Array.isArray(items) || items.length === 0) throw invalid('completeMany needs a non-empty array of claims');
  return items.map((item) => ({ ref: checkClaimRef(item), result: item.result }));
}

/** `explicit`: the retry delay the caller chose, if any (else the engine's backoff). */
export function checkFail(claim: unknown, error: unknown, options: { retryInMs?: number }): { ref: ClaimRef; error: string; explicit: number | undefined } {
  const ref = checkClaimRef(claim);
  const text = requireString('error', error, { max: MAX_TEXT_LENGTH });
  const explicit = options.retryInMs === undefined ? undefined : requireInt('retryInMs', options.retryInMs, { max: MAX_TTL_MS });
  return { ref, error: text, explicit };
}

// --- rows -----------------------------------------------------------------

export async function getTaskRow(tx: StoreTx, id: number): Promise<TaskRow> {
  const row = await tx.get<TaskRow>('taskGet', { id });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
  return row;
}

/** Writes a changed row back; a version that moved on is a CONFLICT. */
export async function save(tx: StoreTx, row: TaskRow): Promise<TaskRow> {
  const result = await tx.run('taskUpdate', {
    id: row.id,
    version: row.version,
    title: row.title,
    payload: row.payload,
    priority: row.priority,
    position: row.position,
    status: row.status,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    pendingDeps: row.pending_deps,
    reason: row.reason,
    result: row.result,
    lastError: row.last_error,
    claimedBy: row.claimed_by,
    claimToken: row.claim_token,
    claimExpiresAt: row.claim_expires_at,
    now: tx.now,
  });
  if (result.changes === 0) throw conflict(row.id, row.version);
  return { ...row, version: row.version + 1, updated_at: tx.now };
}

export function conflict(id: number, version: number): BatonError {
  return new BatonError('CONFLICT', `task ${id} changed since version ${version}; read it again and retry`, { details: { taskId: id, version } });
}

/** The version the caller read must still be the row's. */
export function expectVersion(row: TaskRow, version: number): void {
  if (row.version !== version) throw conflict(row.id, version);
}

export async function rowsById(tx: StoreTx, ids: number[]): Promise<Map<number, TaskRow>> {
  const rows = await tx.all<TaskRow>('taskGetMany', { ids: JSON.stringify(ids) });
  return new Map(rows.map((row) => [row.id, row]));
}

/** Tasks by id, in the order given, read after the write that changed them; one removed since is left out. */
export async function tasksByIds(tx: StoreTx, ids: number[]): Promise<Task[]> {
  const byId = await rowsById(tx, ids);
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row === undefined ? [] : [taskFromRow(row)];
  });
}

export async function getTask(tx: StoreTx, id: number): Promise<Task> {
  return taskFromRow(await getTaskRow(tx, id));
}

/** A filter of several states is applied here, to at most this many rows read. */
const MANY_STATES_ROWS = 1_000_000;

export async function listTasks(tx: StoreTx, { queue, statuses, limit }: CheckedFilter): Promise<Task[]> {
  const rows = await tx.all<TaskRow>('taskList', { queue, status: statuses?.length === 1 ? statuses[0]! : null, limit: statuses && statuses.length > 1 ? MANY_STATES_ROWS : limit });
  const out: Task[] = [];
  for (const row of rows) {
    if (statuses !== undefined && !statuses.includes(row.status)) continue;
    out.push(taskFromRow(row));
    if (out.length >= limit) break;
  }
  return out;
}

export async function taskCounts(tx: StoreTx, queue: string | null): Promise<Record<TaskStatus, number>> {
  const rows = await tx.all<{ status: TaskStatus; n: number }>('taskCounts', { queue });
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
