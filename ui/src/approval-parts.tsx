// A person's decision on a task awaiting approval (docs/approvals.md): Approve
// (a reason optional) and Reject (a reason required: the agent that asked reads
// it), each the protocol operation the CLI sends, through the same confirmation
// and undo window as every action. The body's `by` is the page's principal;
// the daemon records the decider from the session's credential whatever it says.
import type { ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { useActions, type ActionRequest } from './actions.tsx';
import { dateTime } from './format.ts';
import type { Task } from './types.ts';

export function approveAction(t: Task, by: string): ActionRequest | null {
  if (t.status !== 'awaiting_approval') return null;
  return {
    kind: 'approve',
    title: `Approve task #${t.id}`,
    description: `Approves "${t.title}" (queue ${t.queue}): it becomes ready and a worker may claim it (blocked instead if a dependency will never be done). A decision cannot be undone once sent.`,
    operation: 'approveTask',
    body: { id: t.id, by },
    input: { field: 'reason', label: 'Reason', required: false, initial: '' },
  };
}

export function rejectAction(t: Task, by: string): ActionRequest | null {
  if (t.status !== 'awaiting_approval') return null;
  return {
    kind: 'reject',
    title: `Reject task #${t.id}`,
    description: `Rejects "${t.title}" (queue ${t.queue}): it ends, rejected, for good, and tasks that depend on it become blocked. The agent that asked reads the reason. A decision cannot be undone once sent.`,
    operation: 'rejectTask',
    body: { id: t.id, by },
    input: { field: 'reason', label: 'Reason', required: true, initial: '' },
  };
}

/** Who the page acts as (whoami's principal), the `by` of a decision. */
export function usePrincipal(): string {
  return useProtocol((s) => s.whoami?.principal ?? 'dashboard');
}

/** The Approval fact of the details: pending, or who decided, when and why; null for a task that needed none. */
export function approvalText(t: Task): string | null {
  const a = t.approval;
  if (a === null || a === undefined) return null;
  if (a.state === 'pending') return 'pending: a person must approve it before it can be claimed';
  const when = a.at === null ? '' : ` at ${dateTime(a.at)}`;
  return `${a.state} by ${a.by ?? '?'}${when}${a.reason ? `: ${a.reason}` : ''}`;
}

/** Why a session that may not act sees no Approve or Reject on a task awaiting approval. */
export function ApprovalNote({ task }: { task: Task }): ReactNode {
  const { enabled } = useActions();
  if (enabled || task.status !== 'awaiting_approval') return null;
  return (
    <p className="muted" data-testid="approval-read-only">
      Awaiting approval. This session is read-only, so it cannot decide: use <code>baton task approve {task.id}</code> or{' '}
      <code>baton task reject {task.id} --reason …</code>, or a dashboard session that may act.
    </p>
  );
}
