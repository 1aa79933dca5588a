// Changes callers make to the queue: adding tasks, and updating, removing,
// reordering or cancelling one at the version they read (a stale version is
// a CONFLICT). Arguments arrive checked (tasks.ts).
import type { TaskPatch } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { approvalRequired, awaitApproval } from './task-approvals.ts';
import { blockDependents, dependencyState, linkDependencies } from './task-dependencies.ts';
import { conflict, expectVersion, getTaskRow, save, type NewTask, type Placement, type RowChanges, type TaskRow } from './tasks.ts';
import { invalid } from './validate.ts';

export async function addTask(tx: StoreTx, spec: NewTask): Promise<TaskRow> {
  const { pending, blocked } = await dependencyState(tx, spec.dependsOn);
  const gated = await approvalRequired(tx, spec);
  // New tasks go last: the position is the time added (ties by id); a reorder renumbers from 1.
  const { lastId: id } = await tx.run('taskInsert', {
    queue: spec.queue,
    title: spec.title,
    payload: spec.payload,
    dependsOn: JSON.stringify(spec.dependsOn),
    priority: spec.priority,
    position: tx.now,
    status: gated ? 'awaiting_approval' : blocked === null ? 'ready' : 'blocked',
    runAt: spec.runAt ?? tx.now,
    maxAttempts: spec.maxAttempts,
    pendingDeps: pending,
    reason: blocked,
    now: tx.now,
  });
  await linkDependencies(tx, id, spec.dependsOn);
  await emit(tx, 'task.added', String(id), null, { queue: spec.queue, title: spec.title, priority: spec.priority, dependsOn: spec.dependsOn });
  if (gated) await awaitApproval(tx, id, spec);
  return (await tx.get<TaskRow>('taskGet', { id }))!;
}

/** `patch`: as given (its fields name the event's); `changes`: its checked columns. */
export async function updateTask(tx: StoreTx, id: number, version: number, patch: TaskPatch, changes: RowChanges): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  expectVersion(row, version);
  if (row.status === 'done' || row.status === 'cancelled' || row.status === 'dead' || row.status === 'rejected') {
    throw new BatonError('CONFLICT', `task ${id} is ${row.status}; it cannot be changed`, { details: { taskId: id, status: row.status } });
  }
  const saved = await save(tx, { ...row, ...changes });
  await emit(tx, 'task.updated', String(id), null, { fields: Object.keys(patch) });
  return saved;
}

export async function removeTask(tx: StoreTx, id: number, version: number): Promise<void> {
  const row = await getTaskRow(tx, id);
  expectVersion(row, version);
  if (row.status === 'claimed') throw new BatonError('CONFLICT', `task ${id} is claimed by session ${row.claimed_by}; cancel it first`, { details: { taskId: id } });
  const result = await tx.run('taskDelete', { id, version });
  if (result.changes === 0) throw conflict(id, version);
  tx.defer('depDeleteTask', { id });
  tx.defer('artifactsDeleteTask', { id });
  if (row.status !== 'done') await blockDependents(tx, id, `dependency ${id} was removed`);
  await emit(tx, 'task.removed', String(id), null, { title: row.title });
}

/** A new priority and/or a place just before or after another task of the same queue. */
export async function reorderTask(tx: StoreTx, id: number, version: number, to: Placement): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  expectVersion(row, version);
  const next = { ...row };
  if (to.anchor !== undefined) {
    const anchor = await getTaskRow(tx, to.anchor);
    if (anchor.queue !== row.queue) throw invalid(`task ${to.anchor} is in queue ${JSON.stringify(anchor.queue)}, not ${JSON.stringify(row.queue)}`);
    next.priority = to.priority ?? anchor.priority;
    if (next.priority !== anchor.priority) throw invalid(`priority ${next.priority} differs from task ${to.anchor}'s ${anchor.priority}`);
    // Renumber the tasks of that priority, leaving a gap where this one goes.
    const peers = (await tx.all<{ id: number; position: number }>('taskSamePriority', { queue: row.queue, priority: anchor.priority })).filter((p) => p.id !== id);
    let position = 0;
    for (const peer of peers) {
      if (peer.id === anchor.id && to.before) next.position = ++position;
      tx.defer('taskSetPosition', { id: peer.id, position: ++position });
      if (peer.id === anchor.id && !to.before) next.position = ++position;
    }
  } else {
    next.priority = to.priority!; // checkReorder: a priority when there is no anchor
  }
  const saved = await save(tx, next);
  await emit(tx, 'task.reordered', String(id), null, { priority: saved.priority, position: saved.position });
  return saved;
}

export async function cancelTask(tx: StoreTx, id: number, version: number | undefined, reason: string): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  if (version !== undefined) expectVersion(row, version);
  if (row.status === 'cancelled') return row;
  if (row.status === 'done' || row.status === 'rejected') throw new BatonError('CONFLICT', `task ${id} is already ${row.status}; it cannot be cancelled`, { details: { taskId: id } });
  const saved = await save(tx, { ...row, status: 'cancelled', reason, claimed_by: null, claim_expires_at: null });
  await emit(tx, 'task.cancelled', String(id), null, { reason });
  await blockDependents(tx, id, `dependency ${id} is cancelled`);
  return saved;
}
