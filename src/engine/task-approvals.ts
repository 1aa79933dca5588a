// Approvals (docs/approvals.md): a task that needs a person's approval is
// added in status awaiting_approval. The claim statements read only status
// 'ready', so no claim, however many race, can take it before a decision: the
// gate is the state itself, not a check a claimer makes. approveTask moves it
// to ready (or blocked, when a dependency will never be done), rejectTask to
// rejected, for good; each decision is one transaction with its event
// (task.approved, task.rejected: { id, by, reason }), so the log and the state
// never disagree. A second decision is CONFLICT naming the first.
//
// PostgreSQL: the task's row is read FOR UPDATE (writeQueries.taskGet), so two
// people deciding at once queue on it, and the second sees the first's decision.
import type { ApprovalPolicy, ApprovalPolicySpec, ApproveOptions, RejectOptions } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { MAX_NAME_LENGTH, MAX_REASON_LENGTH } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { blockDependents, dependencyState } from './task-dependencies.ts';
import { checkId, checkQueue, getTaskRow, save, type NewTask, type TaskRow } from './tasks.ts';
import { invalid, optionalString, requireString } from './validate.ts';

export interface Decision {
  id: number;
  by: string;
  reason: string | null;
}

// --- argument checks, made before the transaction -----------------------

export function checkApprove(id: unknown, options: ApproveOptions): Decision {
  const o = checkOptions(options, 'approveTask', '{ by, reason? }');
  const reason = o.reason === '' ? null : (optionalString('reason', o.reason, { max: MAX_REASON_LENGTH }) ?? null);
  return { id: checkId(id), by: requireString('by', o.by, { max: MAX_NAME_LENGTH }), reason };
}

export function checkReject(id: unknown, options: RejectOptions): Decision {
  const o = checkOptions(options, 'rejectTask', '{ by, reason }');
  // The agent that asked reads why: a rejection without a reason tells it nothing.
  return { id: checkId(id), by: requireString('by', o.by, { max: MAX_NAME_LENGTH }), reason: requireString('reason', o.reason, { max: MAX_REASON_LENGTH }) };
}

function checkOptions(options: unknown, what: string, shape: string): { by?: unknown; reason?: unknown } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid(`${what} needs options ${shape}: who decides`);
  return options;
}

export interface CheckedPolicy {
  queue: string;
  required: boolean;
  by: string | null;
}

export function checkPolicy(spec: ApprovalPolicySpec): CheckedPolicy {
  if (typeof spec !== 'object' || spec === null) throw invalid('setApprovalPolicy needs { queue, required, by? }');
  if (typeof spec.required !== 'boolean') throw invalid(`required must be true or false, not ${JSON.stringify(spec.required)}`);
  return { queue: checkQueue(spec.queue), required: spec.required, by: optionalString('by', spec.by, { max: MAX_NAME_LENGTH }) ?? null };
}

// --- adding a task that needs approval ------------------------------------

/** Per write transaction: the queues whose policy it has read (addTasks of a thousand reads each queue's once). */
const policiesSeen = new WeakMap<StoreTx, Map<string, boolean>>();

async function queueRequiresApproval(tx: StoreTx, queue: string): Promise<boolean> {
  let seen = policiesSeen.get(tx);
  if (seen === undefined) policiesSeen.set(tx, (seen = new Map()));
  let required = seen.get(queue);
  if (required === undefined) {
    required = (await tx.get('approvalPolicyGet', { queue })) !== undefined;
    seen.set(queue, required);
  }
  return required;
}

/** Whether a new task waits for approval: it asks to, or its queue's policy says so (a task cannot opt out of a policy). */
export async function approvalRequired(tx: StoreTx, spec: NewTask): Promise<boolean> {
  return spec.needsApproval || (await queueRequiresApproval(tx, spec.queue));
}

/** Marks a task just added as awaiting approval, and says so in the log (a webhook on task.approval_requested can page a person). */
export async function awaitApproval(tx: StoreTx, id: number, spec: NewTask): Promise<void> {
  tx.defer('taskApprovalSet', { id, approval: 'pending', by: null, reason: null, at: null });
  await emit(tx, 'task.approval_requested', String(id), null, { id, queue: spec.queue, title: spec.title });
}

// --- decisions --------------------------------------------------------------

/** The task, which must be awaiting approval: else CONFLICT saying what it is (and who decided, if someone did). */
async function awaitingRow(tx: StoreTx, id: number, verb: string): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  if (row.status === 'awaiting_approval') return row;
  const decided = row.approval === 'approved' || row.approval === 'rejected';
  const why = decided
    ? `it was already ${String(row.approval)} by ${String(row.approval_by)} at ${new Date(Number(row.approval_at)).toISOString()}${row.approval_reason ? ` (${String(row.approval_reason)})` : ''}`
    : `it is ${row.status} and does not await approval`;
  throw new BatonError('CONFLICT', `task ${id} cannot be ${verb}: ${why}`, {
    details: { taskId: id, status: row.status, approval: row.approval ?? null, ...(decided ? { by: row.approval_by } : {}) },
  });
}

async function record(tx: StoreTx, d: Decision, state: 'approved' | 'rejected'): Promise<void> {
  tx.defer('taskApprovalSet', { id: d.id, approval: state, by: d.by, reason: d.reason, at: tx.now });
  await emit(tx, `task.${state}`, String(d.id), d.by, { id: d.id, by: d.by, reason: d.reason });
}

/** Ready, as a task added now would be (dependencies still pending wait as usual), or blocked if one never will be done. */
export async function approveTask(tx: StoreTx, d: Decision): Promise<TaskRow> {
  const row = await awaitingRow(tx, d.id, 'approved');
  const { blocked } = await dependencyState(tx, JSON.parse(row.depends_on) as number[]);
  const saved = await save(tx, { ...row, status: blocked === null ? 'ready' : 'blocked', reason: blocked });
  await record(tx, d, 'approved');
  if (blocked !== null) {
    await emit(tx, 'task.blocked', String(d.id), null, { reason: blocked });
    await blockDependents(tx, d.id, `dependency ${d.id} is blocked`);
  }
  return { ...saved, approval: 'approved', approval_by: d.by, approval_reason: d.reason, approval_at: tx.now };
}

/** Rejected, for good; tasks that depend on it become blocked, as a cancel's do. */
export async function rejectTask(tx: StoreTx, d: Decision): Promise<TaskRow> {
  const row = await awaitingRow(tx, d.id, 'rejected');
  const saved = await save(tx, { ...row, status: 'rejected', reason: `rejected by ${d.by}: ${d.reason}` });
  await record(tx, d, 'rejected');
  await blockDependents(tx, d.id, `dependency ${d.id} was rejected`);
  return { ...saved, approval: 'rejected', approval_by: d.by, approval_reason: d.reason, approval_at: tx.now };
}

// --- policies -----------------------------------------------------------------

interface PolicyRow {
  [column: string]: unknown;
  queue: string;
  created_at: number;
}

const policyFromRow = (row: PolicyRow): ApprovalPolicy => ({ queue: row.queue, required: true, since: Number(row.created_at) });

/**
 * Sets or removes a queue's policy, with an event (approval.policy) when it
 * changes; setting one already set keeps its time. Tasks added before it
 * are not touched: it gates the tasks added after it.
 */
export async function setPolicy(tx: StoreTx, { queue, required, by }: CheckedPolicy): Promise<ApprovalPolicy> {
  const { changes } = required ? await tx.run('approvalPolicyInsert', { queue, now: tx.now }) : await tx.run('approvalPolicyDelete', { queue });
  if (changes > 0) await emit(tx, 'approval.policy', queue, by, { queue, required, by });
  if (!required) return { queue, required: false, since: null };
  return policyFromRow((await tx.get<PolicyRow>('approvalPolicyGet', { queue }))!);
}

export async function listPolicies(tx: StoreTx): Promise<ApprovalPolicy[]> {
  return (await tx.all<PolicyRow>('approvalPolicyList')).map(policyFromRow);
}
