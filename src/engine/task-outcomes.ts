// How a claim ends: completed (one, or a batch in one statement each), or
// failed and retried after a backoff until its attempts run out (then dead,
// its dependents blocked); the claims of an ended session and lapsed claims
// are put back the same way, each counted as an attempt.
import type { ClaimRef } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { claimedRow, expectClaimed } from './task-claims.ts';
import { blockDependents } from './task-dependencies.ts';
import { save, type Completion, type TaskRow } from './tasks.ts';
import { toJson } from './validate.ts';

export interface RetryPolicy {
  /** First retry delay; doubles with each attempt. Default 1 s. */
  baseMs: number;
  /** Longest retry delay. Default 1 h. */
  maxMs: number;
}

/** The claim a task row must still be under, for a completion. */
type ClaimState = Pick<TaskRow, 'id' | 'status' | 'claim_token' | 'claim_expires_at'>;

/**
 * Completes claims, all or nothing, each as complete() checks one, in order
 * (the same task twice: the second finds it done). One comes back as its
 * row. Many come back as ids, and the caller reads the tasks after the commit
 * (as claimTasks' tickets are): under the write lock the statement that makes their
 * events counts the tasks still claimed, the update counts those under the
 * tokens given, and only when a claim does not hold are the tasks read, to
 * refuse the batch with that claim's own error.
 */
export async function completeTasks(tx: StoreTx, items: Completion[], artifactCounts: number[] = []): Promise<TaskRow[] | { ids: number[] }> {
  if (items.length === 1) return [await completeTask(tx, items[0]!, artifactCounts[0])];
  const list = items.map(({ ref, result }) => ({ id: ref.taskId, token: ref.token, result: toJson('result', result) }));
  const ids = list.map((item) => item.id);
  const idList = JSON.stringify(ids);
  if (new Set(ids).size !== ids.length || (await tx.run('eventsTasksCompleted', { now: tx.now, ids: idList })).changes !== ids.length) {
    await refuseCompletions(tx, items, false);
  }
  if ((await tx.run('taskCompleteMany', { now: tx.now, list: JSON.stringify(list) })).changes !== ids.length) await refuseCompletions(tx, items, true);
  tx.defer('taskDependenciesDone', { now: tx.now, ids: idList });
  return { ids };
}

/** Completes one claim (complete(), or a batch of one); its event counts the artifacts stored with it (task-artifacts.ts). */
export async function completeTask(tx: StoreTx, { ref, result }: Completion, artifacts = 0): Promise<TaskRow> {
  const row = await claimedRow(tx, ref);
  const done: TaskRow = { ...row, status: 'done', result: toJson('result', result), claimed_by: null, claim_expires_at: null, version: row.version + 1, updated_at: tx.now };
  const { changes } = await tx.run('taskComplete', { now: tx.now, id: row.id, version: row.version, result: done.result });
  if (changes !== 1) throw new BatonError('CONFLICT', `task ${row.id} changed while being completed; read it again and retry`, { details: { taskIds: [row.id] } });
  await emit(tx, 'task.completed', String(row.id), row.claimed_by, { token: ref.token, attempt: row.attempts, ...(artifacts > 0 ? { artifacts } : {}) });
  tx.defer('taskDependencyDone', { now: tx.now, id: row.id });
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
    if (!(completed && row.status === 'done' && row.claim_token === ref.token)) expectClaimed(tx, row, ref);
    byId.set(row.id, { ...row, status: 'done' });
  }
  const ids = items.map((i) => i.ref.taskId);
  throw new BatonError('CONFLICT', `tasks ${ids.join(', ')} changed while being completed; read them again and retry`, { details: { taskIds: ids } });
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
  return retryOrBury(tx, row, error, delayMs(row.attempts), 'task.failed', row.claimed_by);
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
