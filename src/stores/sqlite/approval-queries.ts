// The SQLite statements of approvals (src/engine/task-approvals.ts has the rules).
import type { QueryName } from '../store.ts';

type ApprovalQuery = Extract<QueryName, `approval${string}` | 'taskApprovalSet'>;

export const sqliteApprovalQueries: Record<ApprovalQuery, string> = {
  // The decision's columns, beside the status change (save) of the same transaction.
  taskApprovalSet: `UPDATE tasks SET approval = $approval, approval_by = $by, approval_reason = $reason, approval_at = $at WHERE id = $id`,
  approvalPolicyGet: `SELECT * FROM approval_policies WHERE queue = $queue`,
  approvalPolicyList: `SELECT * FROM approval_policies ORDER BY queue`,
  approvalPolicyInsert: `INSERT INTO approval_policies (queue, created_at) VALUES ($queue, $now) ON CONFLICT (queue) DO NOTHING`,
  approvalPolicyDelete: `DELETE FROM approval_policies WHERE queue = $queue`,
};
