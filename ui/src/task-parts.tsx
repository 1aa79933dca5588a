// How a task reads anywhere on the page (its state, its claim against the
// deadline, its dependencies) and the actions on it. Requeue depends on the
// state, as the protocol allows: a claimed task is released (releaseClaim,
// presenting the claim's token); a ready task waiting out a retry backoff is
// made runnable now (updateTask runAt); a task awaiting approval is approved
// or rejected (approval-parts.tsx). A dead task has no operation that revives
// it, so it offers none.
import type { ReactNode } from 'react';
import { useBatonActions } from '../../src/react/index.ts';
import { ActionButton, type ActionRequest } from './actions.tsx';
import { approveAction, rejectAction, usePrincipal } from './approval-parts.tsx';
import { duration, until } from './format.ts';
import { claims, claimToken } from './trackers.ts';
import type { Session, Task } from './types.ts';

type Call = ReturnType<typeof useBatonActions>['call'];

function claimRef(call: Call, t: Task, seq: number): () => Promise<Record<string, unknown>> {
  return async () => ({ claim: { taskId: t.id, token: await claimToken(call, t.id, seq) } });
}

export function requeueAction(call: Call, t: Task, seq: number, now: number): ActionRequest | null {
  if (t.status === 'claimed') {
    return {
      kind: 'requeue',
      title: `Requeue task #${t.id}`,
      description: `Ends the current claim on "${t.title}" and puts it back to ready, to be claimed again. The claimant's next renew or complete is refused (STALE_TOKEN). The attempt stays counted (${t.attempts} of ${t.maxAttempts}).`,
      operation: 'releaseClaim',
      body: {},
      prepare: claimRef(call, t, seq),
    };
  }
  if (t.status === 'ready' && t.runAt > now) {
    return {
      kind: 'requeue',
      title: `Retry task #${t.id} now`,
      description: `"${t.title}" waits out a retry backoff until ${until(t.runAt, now)}; this makes it claimable now (its runAt set to now).`,
      operation: 'updateTask',
      body: { id: t.id, version: t.version, patch: { runAt: now } },
    };
  }
  return null;
}

export function failAction(call: Call, t: Task, seq: number): ActionRequest | null {
  if (t.status !== 'claimed') return null;
  const last = t.attempts >= t.maxAttempts;
  return {
    kind: 'fail',
    title: `Fail task #${t.id}`,
    description: `Records a failure of the current attempt of "${t.title}" (${t.attempts} of ${t.maxAttempts}): ${last ? 'it has no attempt left, so it becomes dead and its dependents blocked' : 'it is retried after the backoff'}.`,
    operation: 'fail',
    body: {},
    input: { field: 'error', label: 'Error', required: true, initial: 'failed by an operator from the dashboard' },
    prepare: claimRef(call, t, seq),
  };
}

export function cancelAction(t: Task): ActionRequest | null {
  if (t.status !== 'ready' && t.status !== 'claimed' && t.status !== 'blocked' && t.status !== 'awaiting_approval') return null;
  return {
    kind: 'cancel',
    title: `Cancel task #${t.id}`,
    description: `Cancels "${t.title}" (${t.status}): it will not run${t.status === 'claimed' ? ', and its claimant can no longer complete it' : ''}; tasks that depend on it become blocked.`,
    operation: 'cancel',
    body: { id: t.id },
    input: { field: 'reason', label: 'Reason', required: false, initial: 'cancelled from the dashboard' },
  };
}

export function TaskActions({ task, seq, now, compact = false }: { task: Task; seq: number; now: number; compact?: boolean }): ReactNode {
  const { call } = useBatonActions();
  const requeue = requeueAction(call, task, seq, now);
  const fail = failAction(call, task, seq);
  const cancel = cancelAction(task);
  const by = usePrincipal();
  const approve = approveAction(task, by);
  const reject = rejectAction(task, by);
  return (
    <span className="actions">
      {approve !== null ? <ActionButton make={() => approve} label="Approve" compact={compact} /> : null}
      {reject !== null ? <ActionButton make={() => reject} label="Reject" compact={compact} /> : null}
      {requeue !== null ? <ActionButton make={() => requeue} label={requeue.operation === 'updateTask' ? 'Retry now' : 'Requeue'} compact={compact} /> : null}
      {fail !== null ? <ActionButton make={() => fail} label="Fail" compact={compact} /> : null}
      {cancel !== null ? <ActionButton make={() => cancel} label="Cancel" compact={compact} /> : null}
    </span>
  );
}

/** When the current claim started: seen on the stream, else the task's last change (a claim or a renewal). */
export function claimStart(t: Task): number {
  return claims.get(t.id)?.at ?? t.updatedAt;
}

export function ClaimCell({ task, sessions, now }: { task: Task; sessions: ReadonlyMap<string, Session>; now: number }): ReactNode {
  if (task.status !== 'claimed' || task.claimExpiresAt === null) return null;
  const who = task.claimedBy === null ? '?' : (sessions.get(task.claimedBy)?.name ?? task.claimedBy);
  const overdue = task.claimExpiresAt < now;
  return (
    <span className={overdue ? 'crit' : undefined} title={`claimed by ${who}; deadline ${new Date(task.claimExpiresAt).toISOString()}`}>
      {who} · {duration(now - claimStart(task))} · {overdue ? `${duration(now - task.claimExpiresAt)} overdue` : `due ${until(task.claimExpiresAt, now)}`}
    </span>
  );
}

export function StateCell({ task, now }: { task: Task; now: number }): ReactNode {
  if (task.status === 'ready' && task.runAt > now) return <span title={`ready, but not claimable before ${new Date(task.runAt).toISOString()}`}>retry {until(task.runAt, now)}</span>;
  if (task.status === 'ready' && task.pendingDeps > 0) return <span>waiting on {task.pendingDeps}</span>;
  if (task.status === 'awaiting_approval') return <span className="state awaiting_approval" title="nobody can claim it until a person approves it (or rejects it)">awaiting approval</span>;
  return <span className={`state ${task.status}`}>{task.status}</span>;
}

export function DepsCell({ task }: { task: Task }): ReactNode {
  if (task.dependsOn.length === 0) return <span className="muted">none</span>;
  const ids = task.dependsOn.slice(0, 4).map((d) => `#${d}`).join(' ');
  return (
    <span title={task.dependsOn.map((d) => `#${d}`).join(' ')}>
      {ids}
      {task.dependsOn.length > 4 ? ` +${task.dependsOn.length - 4}` : ''}
      {task.pendingDeps > 0 ? ` (${task.pendingDeps} pending)` : ''}
    </span>
  );
}
