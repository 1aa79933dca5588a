// What tasks.ts needs of approvals (docs/approvals.md): a spec's needsApproval,
// checked, and a row's approval columns as the Task's `approval`. Its own
// file, apart from task-approvals.ts (which reads tasks.ts), so the two do
// not import each other.
import type { Approval } from '../coordinator.ts';
import { invalid } from './validate.ts';

/** needsApproval as a spec gives it: absent is false. */
export function checkNeedsApproval(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(`needsApproval${where} must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

export function approvalFromRow(row: { [column: string]: unknown }): Approval | null {
  const state = row.approval;
  if (state !== 'pending' && state !== 'approved' && state !== 'rejected') return null;
  const at = row.approval_at;
  return {
    state,
    by: (row.approval_by as string | null | undefined) ?? null,
    reason: (row.approval_reason as string | null | undefined) ?? null,
    at: at === null || at === undefined ? null : Number(at),
  };
}
