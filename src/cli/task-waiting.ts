// What a ready task waits for. The engine calls a task `ready` from the moment
// it is added, and claims it once its dependencies are done and its time has
// come; until then `task claim` finds nothing. The CLI shows such a task as
// `waiting`, with what for: the dependencies not done yet, or its runAt.
// (`blocked` is taken: a dependency that will never be done.)
import type { Coordinator, Task, TaskStatus } from '../coordinator.ts';
import { isBatonError } from '../errors.ts';
import { TASK_STATES } from '../limits.ts';
import { ago } from './output.ts';

/** The states `task list` shows and `--status` takes: the engine's, and `waiting` after `ready`. */
export const SHOWN_STATES = ['ready', 'waiting', ...TASK_STATES.filter((s) => s !== 'ready')] as const;
export type ShownStatus = (typeof SHOWN_STATES)[number];

/** A ready task that cannot be claimed yet: dependencies not done, or a runAt still to come. */
export function isWaiting(t: Task, now = Date.now()): boolean {
  return t.status === 'ready' && (t.pendingDeps > 0 || t.runAt > now);
}

export function shownStatus(t: Task, now = Date.now()): ShownStatus {
  return isWaiting(t, now) ? 'waiting' : t.status;
}

/**
 * The engine's states to ask for, and which of the tasks it returns to keep,
 * for `--status` as the user wrote it: `ready` alone leaves out waiting tasks,
 * `waiting` alone keeps only them.
 */
export function statusFilter(shown: ShownStatus[]): { ask: TaskStatus[]; keep: (t: Task) => boolean; narrowed: boolean } {
  const wanted = new Set(shown);
  const ask = [...new Set(shown.map((s): TaskStatus => (s === 'waiting' ? 'ready' : s)))];
  const narrowed = wanted.has('ready') !== wanted.has('waiting');
  return { ask, keep: (t) => wanted.has(shownStatus(t)), narrowed };
}

/** A dependency not done yet: its id and state (`removed` if it is gone). */
export interface Unfinished {
  id: number;
  status: TaskStatus | 'removed';
}

/**
 * For each waiting task with dependencies not done, which they are. States
 * come from `known` (the tasks already read) where they can, else one read each.
 */
export async function unfinishedDependencies(c: Coordinator, tasks: Task[], known: Task[] = tasks): Promise<Map<number, Unfinished[]>> {
  const status = new Map<number, TaskStatus | 'removed'>(known.map((t) => [t.id, t.status]));
  const waiting = tasks.filter((t) => t.status === 'ready' && t.pendingDeps > 0);
  const missing = [...new Set(waiting.flatMap((t) => t.dependsOn))].filter((id) => !status.has(id));
  const read = await Promise.all(
    missing.map((id) =>
      c.getTask(id).then(
        (t) => t.status,
        (error: unknown) => {
          if (isBatonError(error, 'NOT_FOUND')) return 'removed' as const;
          throw error;
        },
      ),
    ),
  );
  missing.forEach((id, i) => status.set(id, read[i]!));
  return new Map(waiting.map((t) => [t.id, t.dependsOn.filter((d) => status.get(d) !== 'done').map((id) => ({ id, status: status.get(id)! }))]));
}

/** `task 3`, `tasks 3, 4`; `runAt, in 5m` for a time still to come; null for a task that waits for nothing. */
export function waitingFor(t: Task, unfinished: Unfinished[] | undefined, now = Date.now(), withStates = false): string | null {
  if (!isWaiting(t, now)) return null;
  const parts: string[] = [];
  if (t.pendingDeps > 0) {
    // The ids when known; if the reads raced a completion, the engine's count.
    const deps = unfinished ?? [];
    const ids = deps.map((d) => (withStates ? `${d.id} (${d.status})` : String(d.id)));
    parts.push(ids.length === 0 ? `${t.pendingDeps} of tasks ${t.dependsOn.join(', ')}` : `task${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`);
  }
  if (t.runAt > now) parts.push(`runAt, ${ago(t.runAt, now)}`);
  return parts.join('; ');
}

/** Why `task claim` found nothing, when tasks of the queue are waiting: one clause, or ''. */
export async function waitingNote(c: Coordinator, queue: string): Promise<string> {
  const ready = await c.listTasks({ queue, status: 'ready' });
  const n = ready.filter((t) => isWaiting(t)).length;
  if (n === 0) return '';
  return `; ${n === 1 ? '1 task is' : `${n} tasks are`} waiting for dependencies or their time (see 'baton task list --status waiting')`;
}
