// The task queue: add, claim with a lease and a token, complete or fail with
// retries, dependencies. Every transition checks the row's version, so a
// store whose claim is not serialized (PostgreSQL with SKIP LOCKED) still
// changes each task once.
import type { Claim, ClaimRef, Task, TaskPatch, TaskSpec, TaskStatus } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, MAX_NAME_LENGTH, MAX_PRIORITY, MAX_TASK_ATTEMPTS, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { invalid, optionalInt, requireInt, requireString, toJson } from './validate.ts';

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

export interface RetryPolicy {
  /** First retry delay; doubles with each attempt. Default 1 s. */
  baseMs: number;
  /** Longest retry delay. Default 1 h. */
  maxMs: number;
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
    reason: row.reason,
    result: parse(row.result),
    lastError: row.last_error,
    claimedBy: row.claimed_by,
    claimExpiresAt: row.claim_expires_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function checkQueue(queue: unknown): string {
  return queue === undefined ? DEFAULT_QUEUE : requireString('queue', queue, { max: MAX_NAME_LENGTH });
}

export function checkId(id: unknown): number {
  return requireInt('task id', id, { min: 1 });
}

export async function getTaskRow(tx: StoreTx, id: number): Promise<TaskRow> {
  const row = await tx.get<TaskRow>('taskGet', { id: checkId(id) });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
  return row;
}

/** Writes a changed row back; a version that moved on is a CONFLICT. */
async function save(tx: StoreTx, row: TaskRow): Promise<TaskRow> {
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

function conflict(id: number, version: number): BatonError {
  return new BatonError('CONFLICT', `task ${id} changed since version ${version}; read it again and retry`, { details: { taskId: id, version } });
}

function checkVersion(row: TaskRow, version: unknown): void {
  requireInt('version', version, { min: 1 });
  if (row.version !== version) throw conflict(row.id, version as number);
}

export interface NewTask {
  queue: string;
  title: string;
  payload: string | null;
  priority: number;
  dependsOn: number[];
  maxAttempts: number;
  runAt: number | undefined;
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
    runAt: spec.runAt === undefined ? undefined : requireInt(`runAt${where}`, spec.runAt),
  };
}

export async function addTask(tx: StoreTx, spec: NewTask): Promise<TaskRow> {
  let pending = 0;
  let blocked: string | null = null;
  for (const dep of spec.dependsOn) {
    const row = await tx.get<TaskRow>('taskGet', { id: dep });
    if (row === undefined) throw new BatonError('NOT_FOUND', `dependsOn names task ${dep}, which does not exist`, { details: { taskId: dep } });
    if (row.status !== 'done') pending++;
    // A blocked dependency will never be done either (blockDependents blocks its dependents the same way).
    if (row.status === 'dead' || row.status === 'cancelled' || row.status === 'blocked') blocked ??= `dependency ${dep} is ${row.status}`;
  }
  // New tasks go last: the position is the time added (ties by id); a reorder renumbers from 1.
  const { lastId: id } = await tx.run('taskInsert', {
    queue: spec.queue,
    title: spec.title,
    payload: spec.payload,
    dependsOn: JSON.stringify(spec.dependsOn),
    priority: spec.priority,
    position: tx.now,
    status: blocked === null ? 'ready' : 'blocked',
    runAt: spec.runAt ?? tx.now,
    maxAttempts: spec.maxAttempts,
    pendingDeps: pending,
    reason: blocked,
    now: tx.now,
  });
  for (const dep of spec.dependsOn) await tx.run('depInsert', { taskId: id, dependsOn: dep });
  await emit(tx, 'task.added', String(id), null, { queue: spec.queue, title: spec.title, priority: spec.priority, dependsOn: spec.dependsOn });
  return (await tx.get<TaskRow>('taskGet', { id }))!;
}

const PATCH_FIELDS = new Set(['title', 'payload', 'priority', 'maxAttempts', 'runAt']);

export async function updateTask(tx: StoreTx, id: number, version: number, patch: TaskPatch): Promise<TaskRow> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('a patch object { title?, payload?, priority?, maxAttempts?, runAt? } is required');
  // A misspelt or unsupported field (status, dependsOn) would otherwise be dropped silently, and the version bumped for nothing.
  for (const [name, value] of Object.entries(patch)) {
    if (value !== undefined && !PATCH_FIELDS.has(name)) throw invalid(`a task patch has no field ${JSON.stringify(name)}; it takes ${[...PATCH_FIELDS].join(', ')}`);
  }
  const row = await getTaskRow(tx, id);
  checkVersion(row, version);
  if (row.status === 'done' || row.status === 'cancelled' || row.status === 'dead') {
    throw new BatonError('CONFLICT', `task ${id} is ${row.status}; it cannot be changed`, { details: { taskId: id, status: row.status } });
  }
  const next = { ...row };
  if (patch.title !== undefined) next.title = requireString('title', patch.title, { max: MAX_TITLE_LENGTH });
  if (patch.payload !== undefined) next.payload = toJson('payload', patch.payload);
  if (patch.priority !== undefined) next.priority = requireInt('priority', patch.priority, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
  if (patch.maxAttempts !== undefined) next.max_attempts = requireInt('maxAttempts', patch.maxAttempts, { min: 1, max: MAX_TASK_ATTEMPTS });
  if (patch.runAt !== undefined) next.run_at = requireInt('runAt', patch.runAt);
  const saved = await save(tx, next);
  await emit(tx, 'task.updated', String(id), null, { fields: Object.keys(patch) });
  return saved;
}

export async function removeTask(tx: StoreTx, id: number, version: number): Promise<void> {
  const row = await getTaskRow(tx, id);
  checkVersion(row, version);
  if (row.status === 'claimed') throw new BatonError('CONFLICT', `task ${id} is claimed by session ${row.claimed_by}; cancel it first`, { details: { taskId: id } });
  const result = await tx.run('taskDelete', { id, version });
  if (result.changes === 0) throw conflict(id, version);
  await tx.run('depDeleteTask', { id });
  if (row.status !== 'done') await blockDependents(tx, id, `dependency ${id} was removed`);
  await emit(tx, 'task.removed', String(id), null, { title: row.title });
}

/** A new priority and/or a place just before or after another task of the same queue. */
export async function reorderTask(tx: StoreTx, id: number, version: number, to: { priority?: number; before?: number; after?: number }): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  checkVersion(row, version);
  if (typeof to !== 'object' || to === null) throw invalid('reorder needs { priority?, before?, after? }');
  if (to.before !== undefined && to.after !== undefined) throw invalid('give before or after, not both');
  const next = { ...row };
  const anchorId = to.before ?? to.after;
  if (anchorId !== undefined) {
    if (checkId(anchorId) === id) throw invalid(`task ${id} cannot be placed ${to.before !== undefined ? 'before' : 'after'} itself`);
    const anchor = await getTaskRow(tx, anchorId);
    if (anchor.queue !== row.queue) throw invalid(`task ${anchorId} is in queue ${JSON.stringify(anchor.queue)}, not ${JSON.stringify(row.queue)}`);
    next.priority = to.priority === undefined ? anchor.priority : requireInt('priority', to.priority, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
    if (next.priority !== anchor.priority) throw invalid(`priority ${next.priority} differs from task ${anchorId}'s ${anchor.priority}`);
    // Renumber the tasks of that priority, leaving a gap where this one goes.
    const peers = (await tx.all<{ id: number; position: number }>('taskSamePriority', { queue: row.queue, priority: anchor.priority })).filter((p) => p.id !== id);
    let position = 0;
    for (const peer of peers) {
      if (peer.id === anchor.id && to.before !== undefined) next.position = ++position;
      await tx.run('taskSetPosition', { id: peer.id, position: ++position });
      if (peer.id === anchor.id && to.after !== undefined) next.position = ++position;
    }
  } else if (to.priority !== undefined) {
    next.priority = requireInt('priority', to.priority, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
  } else {
    throw invalid('reorder needs a priority, before or after');
  }
  const saved = await save(tx, next);
  await emit(tx, 'task.reordered', String(id), null, { priority: saved.priority, position: saved.position });
  return saved;
}

async function claimRow(tx: StoreTx, row: TaskRow, sessionId: string, leaseMs: number): Promise<Claim> {
  const token = await tx.nextToken(row.claim_token);
  const saved = await save(tx, {
    ...row,
    status: 'claimed',
    attempts: row.attempts + 1,
    claimed_by: sessionId,
    claim_token: token,
    claim_expires_at: tx.now + leaseMs,
    reason: null,
  });
  return (await announceClaims(tx, [saved], sessionId))[0]!;
}

/** The events and the caller's Claims for rows just claimed. */
async function announceClaims(tx: StoreTx, rows: TaskRow[], sessionId: string): Promise<Claim[]> {
  if (rows.length === 1) {
    const [row] = rows as [TaskRow];
    await emit(tx, 'task.claimed', String(row.id), sessionId, { token: row.claim_token, attempt: row.attempts, expiresAt: row.claim_expires_at });
  } else {
    // A batch's events are made by the store from the rows just written: a
    // JSON list built here cost 4.3 µs an event to build and take apart, this 0.9.
    await tx.run('eventsTasksClaimed', { now: tx.now, ids: JSON.stringify(rows.map((row) => row.id)) });
  }
  return rows.map((row) => ({ taskId: row.id, task: taskFromRow(row), token: row.claim_token, expiresAt: row.claim_expires_at! }));
}

/** Claim order: highest priority first, then position, then id. */
function claimOrder(a: TaskRow, b: TaskRow): number {
  return b.priority - a.priority || a.position - b.position || a.id - b.id;
}

/** From this many tasks at once, a claim is made in steps and its tasks read after the commit (see claimTasks). */
const CLAIM_IN_STEPS = 32;

/** A task claimed under the write lock whose row is read after the commit (see claimTasks). */
export interface ClaimTicket {
  taskId: number;
  token: number;
  expiresAt: number;
}

/**
 * Claims up to n ready tasks in claim order. A few come back as Claims. Many
 * come back as tickets: reading hundreds of whole rows was a quarter of the
 * time the claim held the write lock, and other writers wait for that lock;
 * the caller reads them after the commit with claimsFromTickets.
 */
export async function claimTasks(tx: StoreTx, sessionId: string, queue: string, n: number, leaseMs: number): Promise<Claim[] | { tickets: ClaimTicket[] }> {
  // Each task's token is the next after its last one, and at least the
  // store's current floor (tokens never go backwards).
  const floor = await tx.nextToken(0);
  const claim = { now: tx.now, sessionId, floor, expiresAt: tx.now + leaseMs };
  if (n < CLAIM_IN_STEPS) {
    const rows = await tx.all<TaskRow>('taskClaimReady', { queue, n, ...claim });
    if (rows.length === 0) return [];
    rows.sort(claimOrder);
    // The highest token handed out must lie in the durable range; this extends it if not.
    await tx.nextToken(Math.max(...rows.map((r) => r.claim_token)) - 1);
    return announceClaims(tx, rows, sessionId);
  }
  // Pick the ids (in claim order, with their last tokens), claim them, and
  // work out each token as the UPDATE does: 20% less per task at 500 than
  // one UPDATE ... RETURNING.
  const ready = await tx.all<{ id: number; claim_token: number }>('taskReadyIds', { queue, now: tx.now, n });
  if (ready.length === 0) return [];
  const ids = JSON.stringify(ready.map((r) => r.id));
  const { changes } = await tx.run('taskClaimIds', { ids, ...claim });
  if (changes !== ready.length) throw new BatonError('STORE_ERROR', `claimed ${changes} of the ${ready.length} ready tasks picked in the same transaction`);
  const tickets = ready.map((r) => ({ taskId: r.id, token: Math.max(r.claim_token + 1, floor), expiresAt: claim.expiresAt }));
  await tx.nextToken(Math.max(...tickets.map((t) => t.token)) - 1);
  await tx.run('eventsTasksClaimed', { now: tx.now, ids });
  return { tickets };
}

/**
 * The Claims for tickets, read after the claim committed. A task taken from
 * the session in between (its claim expired, the session ended, the task was
 * cancelled) is left out: its claim is already lost, as if it had been lost
 * just after claim() returned.
 */
export async function claimsFromTickets(tx: StoreTx, sessionId: string, tickets: ClaimTicket[]): Promise<Claim[]> {
  const byId = await rowsById(tx, tickets.map((t) => t.taskId));
  const claims: Claim[] = [];
  for (const { taskId, token, expiresAt } of tickets) {
    const row = byId.get(taskId);
    if (row === undefined || row.status !== 'claimed' || row.claim_token !== token || row.claimed_by !== sessionId) continue;
    claims.push({ taskId, task: taskFromRow(row), token, expiresAt });
  }
  return claims;
}

export async function claimByIds(tx: StoreTx, sessionId: string, ids: number[], leaseMs: number): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (const id of ids) {
    const row = await getTaskRow(tx, id);
    const why =
      row.status !== 'ready' ? `it is ${row.status}` : row.pending_deps > 0 ? `${row.pending_deps} of its dependencies are not done` : row.run_at > tx.now ? `it runs at ${new Date(row.run_at).toISOString()}` : null;
    if (why !== null) throw new BatonError('CONFLICT', `task ${id} cannot be claimed: ${why}; nothing was claimed`, { details: { taskId: id, status: row.status } });
    claims.push(await claimRow(tx, row, sessionId, leaseMs));
  }
  return claims;
}

export function checkClaimRef(ref: unknown): ClaimRef {
  if (typeof ref !== 'object' || ref === null) throw invalid('a claim reference { taskId, token } is required');
  const { taskId, token } = ref as { taskId?: unknown; token?: unknown };
  return { taskId: checkId(taskId), token: requireInt('token', token, { min: 1 }) };
}

/** The task behind a claim, if the claim is current; a late call from an old claim is refused. */
export async function claimedRow(tx: StoreTx, ref: ClaimRef): Promise<TaskRow> {
  return checkClaimed(tx, await getTaskRow(tx, ref.taskId), ref);
}

function checkClaimed<R extends Pick<TaskRow, 'status' | 'claim_token' | 'claim_expires_at'>>(tx: StoreTx, row: R, ref: ClaimRef): R {
  if (row.claim_token !== ref.token || row.status !== 'claimed') {
    throw new BatonError('STALE_TOKEN', `claim token ${ref.token} no longer holds task ${ref.taskId} (it is ${row.status}${row.status === 'claimed' ? ` with token ${row.claim_token}` : ''})`, {
      details: { taskId: ref.taskId, token: ref.token, status: row.status },
    });
  }
  if (row.claim_expires_at !== null && row.claim_expires_at <= tx.now) {
    throw new BatonError('LEASE_EXPIRED', `the claim on task ${ref.taskId} expired at ${new Date(row.claim_expires_at).toISOString()}`, { details: { taskId: ref.taskId, token: ref.token } });
  }
  return row;
}

export async function renewClaim(tx: StoreTx, ref: ClaimRef, leaseMs: number): Promise<Claim> {
  const row = await claimedRow(tx, ref);
  const saved = await save(tx, { ...row, claim_expires_at: tx.now + leaseMs });
  return { taskId: row.id, task: taskFromRow(saved), token: ref.token, expiresAt: saved.claim_expires_at! };
}

export async function releaseClaim(tx: StoreTx, ref: ClaimRef): Promise<TaskRow> {
  const row = await claimedRow(tx, ref);
  const saved = await save(tx, { ...row, status: 'ready', claimed_by: null, claim_expires_at: null });
  await emit(tx, 'task.released', String(row.id), row.claimed_by, { token: ref.token });
  return saved;
}

/** The claim a task row must still be under, for a completion. */
type ClaimState = Pick<TaskRow, 'id' | 'status' | 'claim_token' | 'claim_expires_at'>;

/**
 * Completes claims, all or nothing, each as complete() checks one, in order
 * (the same task twice: the second finds it done). One comes back as its
 * row. Many come back as ids, and the caller reads the tasks after the commit
 * (see claimTasks): under the write lock the statement that makes their
 * events counts the tasks still claimed, the update counts those under the
 * tokens given, and only when a claim does not hold are the tasks read, to
 * refuse the batch with that claim's own error.
 */
export async function completeTasks(tx: StoreTx, items: Array<{ ref: ClaimRef; result: unknown }>): Promise<TaskRow[] | { ids: number[] }> {
  if (items.length === 1) return [await completeOne(tx, items[0]!.ref, items[0]!.result)];
  const list = items.map(({ ref, result }) => ({ id: ref.taskId, token: ref.token, result: toJson('result', result) }));
  const ids = list.map((item) => item.id);
  const idList = JSON.stringify(ids);
  if (new Set(ids).size !== ids.length || (await tx.run('eventsTasksCompleted', { now: tx.now, ids: idList })).changes !== ids.length) {
    await refuseCompletions(tx, items, false);
  }
  if ((await tx.run('taskCompleteMany', { now: tx.now, list: JSON.stringify(list) })).changes !== ids.length) await refuseCompletions(tx, items, true);
  await tx.run('taskDependenciesDone', { now: tx.now, ids: idList });
  return { ids };
}

async function completeOne(tx: StoreTx, ref: ClaimRef, result: unknown): Promise<TaskRow> {
  const row = await claimedRow(tx, ref);
  const done: TaskRow = { ...row, status: 'done', result: toJson('result', result), claimed_by: null, claim_expires_at: null, version: row.version + 1, updated_at: tx.now };
  const { changes } = await tx.run('taskComplete', { now: tx.now, id: row.id, version: row.version, result: done.result });
  if (changes !== 1) throw new BatonError('CONFLICT', `task ${row.id} changed while being completed; read it again and retry`, { details: { taskIds: [row.id] } });
  await emit(tx, 'task.completed', String(row.id), row.claimed_by, { token: ref.token, attempt: row.attempts });
  await tx.run('taskDependencyDone', { now: tx.now, id: row.id });
  return done;
}

/**
 * Throws the error of the first claim of a batch that does not hold, checked
 * in order (the same task twice: the second finds it done). After the update
 * (`completed`), a task done under its claim's token was completed by it: all
 * were claimed and unexpired before.
 */
async function refuseCompletions(tx: StoreTx, items: Array<{ ref: ClaimRef }>, completed: boolean): Promise<never> {
  const found = await tx.all<ClaimState>('taskClaimStates', { ids: JSON.stringify(items.map((i) => i.ref.taskId)) });
  const byId = new Map(found.map((row) => [row.id, row]));
  for (const { ref } of items) {
    const row = byId.get(ref.taskId);
    if (row === undefined) throw new BatonError('NOT_FOUND', `no task ${ref.taskId}`, { details: { taskId: ref.taskId } });
    if (!(completed && row.status === 'done' && row.claim_token === ref.token)) checkClaimed(tx, row, ref);
    byId.set(row.id, { ...row, status: 'done' });
  }
  const ids = items.map((i) => i.ref.taskId);
  throw new BatonError('CONFLICT', `tasks ${ids.join(', ')} changed while being completed; read them again and retry`, { details: { taskIds: ids } });
}

async function rowsById(tx: StoreTx, ids: number[]): Promise<Map<number, TaskRow>> {
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

export function retryDelay(attempts: number, policy: RetryPolicy): number {
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

/** Back to ready after a delay, or dead when out of attempts (its dependents blocked). */
async function retryOrBury(tx: StoreTx, row: TaskRow, error: string, delayMs: number, event: string, actor: string | null): Promise<TaskRow> {
  if (row.attempts >= row.max_attempts) {
    const saved = await save(tx, { ...row, status: 'dead', last_error: error, reason: `failed ${row.attempts} of ${row.max_attempts} attempts: ${error}`, claimed_by: null, claim_expires_at: null });
    await emit(tx, event, String(row.id), actor, { error, attempt: row.attempts, willRetry: false });
    await emit(tx, 'task.dead', String(row.id), actor, { error, attempts: row.attempts });
    await blockDependents(tx, row.id, `dependency ${row.id} is dead`);
    return saved;
  }
  const saved = await save(tx, { ...row, status: 'ready', last_error: error, run_at: tx.now + delayMs, claimed_by: null, claim_expires_at: null });
  await emit(tx, event, String(row.id), actor, { error, attempt: row.attempts, willRetry: true, runAt: saved.run_at });
  return saved;
}

/** `delayMs` is given the attempts made so far. */
export async function failTask(tx: StoreTx, ref: ClaimRef, error: string, delayMs: (attempts: number) => number): Promise<TaskRow> {
  const row = await claimedRow(tx, ref);
  return retryOrBury(tx, row, requireString('error', error, { max: MAX_TEXT_LENGTH }), delayMs(row.attempts), 'task.failed', row.claimed_by);
}

export async function cancelTask(tx: StoreTx, id: number, version: number | undefined, reason: string): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  if (version !== undefined) checkVersion(row, version);
  if (row.status === 'cancelled') return row;
  if (row.status === 'done') throw new BatonError('CONFLICT', `task ${id} is already done; it cannot be cancelled`, { details: { taskId: id } });
  const saved = await save(tx, { ...row, status: 'cancelled', reason, claimed_by: null, claim_expires_at: null });
  await emit(tx, 'task.cancelled', String(id), null, { reason });
  await blockDependents(tx, id, `dependency ${id} is cancelled`);
  return saved;
}

/** Tasks waiting on a task that will never be done become blocked, transitively. */
async function blockDependents(tx: StoreTx, id: number, reason: string): Promise<void> {
  for (const dependent of await tx.all<TaskRow>('dependentsOf', { id })) {
    if (dependent.status !== 'ready') continue;
    await save(tx, { ...dependent, status: 'blocked', reason });
    await emit(tx, 'task.blocked', String(dependent.id), null, { reason });
    await blockDependents(tx, dependent.id, `dependency ${dependent.id} is blocked`);
  }
}

/** Puts back the claims of an ended session at once; each counted as an attempt. */
export async function requeueSessionClaims(tx: StoreTx, sessionId: string, reason: string): Promise<number> {
  const rows = await tx.all<TaskRow>('tasksClaimedBy', { sessionId });
  for (const row of rows) await retryOrBury(tx, row, reason, 0, 'task.requeued', sessionId);
  return rows.length;
}

export async function sweepClaims(tx: StoreTx): Promise<number> {
  const rows = await tx.all<TaskRow>('tasksClaimExpired', { now: tx.now });
  for (const row of rows) await retryOrBury(tx, row, 'claim expired', 0, 'task.requeued', row.claimed_by);
  return rows.length;
}
