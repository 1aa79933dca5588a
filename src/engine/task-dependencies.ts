// Dependencies between tasks. A task waits until every task it depends on
// is done (the store counts them down as they complete); one whose
// dependency will never be done (dead, cancelled, removed, or itself
// blocked) becomes blocked, with the reason, and so do its dependents.
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { save, type TaskRow } from './tasks.ts';

/** For a new task: how many of its dependencies are not done yet, and why it is blocked (null: it is not). */
export async function dependencyState(tx: StoreTx, dependsOn: number[]): Promise<{ pending: number; blocked: string | null }> {
  let pending = 0;
  let blocked: string | null = null;
  for (const dep of dependsOn) {
    const row = await tx.get<TaskRow>('taskGet', { id: dep });
    if (row === undefined) throw new BatonError('NOT_FOUND', `dependsOn names task ${dep}, which does not exist`, { details: { taskId: dep } });
    if (row.status !== 'done') pending++;
    // A blocked dependency will never be done either (blockDependents blocks its dependents the same way).
    if (row.status === 'dead' || row.status === 'cancelled' || row.status === 'blocked' || row.status === 'rejected') blocked ??= `dependency ${dep} is ${row.status}`;
  }
  return { pending, blocked };
}

export async function linkDependencies(tx: StoreTx, id: number, dependsOn: number[]): Promise<void> {
  for (const dep of dependsOn) await tx.run('depInsert', { taskId: id, dependsOn: dep });
}

/** Tasks waiting on a task that will never be done become blocked, transitively. */
export async function blockDependents(tx: StoreTx, id: number, reason: string): Promise<void> {
  for (const dependent of await tx.all<TaskRow>('dependentsOf', { id })) {
    if (dependent.status !== 'ready') continue;
    await save(tx, { ...dependent, status: 'blocked', reason });
    await emit(tx, 'task.blocked', String(dependent.id), null, { reason });
    await blockDependents(tx, dependent.id, `dependency ${dependent.id} is blocked`);
  }
}
