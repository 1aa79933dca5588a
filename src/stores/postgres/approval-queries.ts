// The PostgreSQL statements of approvals, as the SQLite store's (sqlite/approval-queries.ts).
import type { QueryName } from '../store.ts';

type ApprovalQuery = Extract<QueryName, `approval${string}` | 'taskApprovalSet'>;

export const postgresApprovalQueries: Record<ApprovalQuery, string> = {
  taskApprovalSet: `UPDATE tasks SET approval = $approval::text, approval_by = $by::text, approval_reason = $reason::text, approval_at = $at::bigint WHERE id = $id`,
  approvalPolicyGet: `SELECT * FROM approval_policies WHERE queue = $queue`,
  approvalPolicyList: `SELECT * FROM approval_policies ORDER BY queue COLLATE "C"`,
  approvalPolicyInsert: `INSERT INTO approval_policies (queue, created_at) VALUES ($queue, $now) ON CONFLICT (queue) DO NOTHING`,
  approvalPolicyDelete: `DELETE FROM approval_policies WHERE queue = $queue`,
};
