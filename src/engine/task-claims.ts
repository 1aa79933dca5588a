// Claiming tasks: a claim takes ready tasks in claim order (priority, then
// position, then id) under the write lock, each with a fencing token and a
// lease; renewClaim and releaseClaim present that token, and a late call from
// an expired or requeued claim is refused (claimedRow).
import type { Claim, ClaimRef } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { getTaskRow, rowsById, save, taskFromRow, type TaskRow } from './tasks.ts';

async function claimRow(tx: StoreTx, row: TaskRow, sessionId: string, leaseMs: number): Promise<Claim> {
  const token = await tx.nextToken(row.claim_token);
  const saved = await save(tx, {
    ...row,
    status: 'claimed',
    attempts: row.attempts + 1,
    claimed_by: sessionId,
    claim_token: token,
    claim_expires_at: tx.now + leaseMs,
    reason: null,
  });
  return (await announceClaims(tx, [saved], sessionId))[0]!;
}

/** The events and the caller's Claims for rows just claimed. */
async function announceClaims(tx: StoreTx, rows: TaskRow[], sessionId: string): Promise<Claim[]> {
  if (rows.length === 1) {
    const [row] = rows as [TaskRow];
    await emit(tx, 'task.claimed', String(row.id), sessionId, { token: row.claim_token, attempt: row.attempts, expiresAt: row.claim_expires_at });
  } else {
    // A batch's events are made by the store from the rows just written: a
    // JSON list built here cost 4.3 µs an event to build and take apart, this 0.9.
    tx.defer('eventsTasksClaimed', { now: tx.now, ids: JSON.stringify(rows.map((row) => row.id)) });
  }
  return rows.map((row) => ({ taskId: row.id, task: taskFromRow(row), token: row.claim_token, expiresAt: row.claim_expires_at! }));
}

/** Claim order: highest priority first, then position, then id. */
function claimOrder(a: TaskRow, b: TaskRow): number {
  return b.priority - a.priority || a.position - b.position || a.id - b.id;
}

/** From this many tasks at once, a claim is made in steps and its tasks read after the commit (see claimTasks). */
const CLAIM_IN_STEPS = 32;

/** A task claimed under the write lock whose row is read after the commit (see claimTasks). */
export interface ClaimTicket {
  taskId: number;
  token: number;
  expiresAt: number;
}

/**
 * Claims up to n ready tasks in claim order. A few come back as Claims. Many
 * come back as tickets: reading hundreds of whole rows was a quarter of the
 * time the claim held the write lock, and other writers wait for that lock;
 * the caller reads them after the commit with claimsFromTickets.
 */
export async function claimTasks(tx: StoreTx, sessionId: string, queue: string, n: number, leaseMs: number): Promise<Claim[] | { tickets: ClaimTicket[] }> {
  // Each task's token is the next after its last one, and at least the
  // store's current floor (tokens never go backwards).
  const floor = await tx.nextToken(0);
  const claim = { now: tx.now, sessionId, floor, expiresAt: tx.now + leaseMs };
  // Where a claim keeps no other writer out (PostgreSQL), one statement claims and returns the rows at any n.
  if (n < CLAIM_IN_STEPS || !tx.exclusive) {
    const rows = await tx.all<TaskRow>('taskClaimReady', { queue, n, ...claim });
    if (rows.length === 0) return [];
    rows.sort(claimOrder);
    // The highest token handed out must lie in the durable range; this extends it if not.
    await tx.nextToken(Math.max(...rows.map((r) => r.claim_token)) - 1);
    return announceClaims(tx, rows, sessionId);
  }
  // Pick the ids (in claim order, with their last tokens), claim them, and
  // work out each token as the UPDATE does: 20% less per task at 500 than
  // one UPDATE ... RETURNING.
  const ready = await tx.all<{ id: number; claim_token: number }>('taskReadyIds', { queue, now: tx.now, n });
  if (ready.length === 0) return [];
  const ids = JSON.stringify(ready.map((r) => r.id));
  const { changes } = await tx.run('taskClaimIds', { ids, ...claim });
  if (changes !== ready.length) throw new BatonError('STORE_ERROR', `claimed ${changes} of the ${ready.length} ready tasks picked in the same transaction`);
  const tickets = ready.map((r) => ({ taskId: r.id, token: Math.max(r.claim_token + 1, floor), expiresAt: claim.expiresAt }));
  await tx.nextToken(Math.max(...tickets.map((t) => t.token)) - 1);
  tx.defer('eventsTasksClaimed', { now: tx.now, ids });
  return { tickets };
}

/**
 * The Claims for tickets, read after the claim committed. A task taken from
 * the session in between (its claim expired, the session ended, the task was
 * cancelled) is left out: its claim is already lost, as if it had been lost
 * just after claim() returned.
 */
export async function claimsFromTickets(tx: StoreTx, sessionId: string, tickets: ClaimTicket[]): Promise<Claim[]> {
  const byId = await rowsById(tx, tickets.map((t) => t.taskId));
  const claims: Claim[] = [];
  for (const { taskId, token, expiresAt } of tickets) {
    const row = byId.get(taskId);
    if (row === undefined || row.status !== 'claimed' || row.claim_token !== token || row.claimed_by !== sessionId) continue;
    claims.push({ taskId, task: taskFromRow(row), token, expiresAt });
  }
  return claims;
}

export async function claimByIds(tx: StoreTx, sessionId: string, ids: number[], leaseMs: number): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (const id of ids) {
    const row = await getTaskRow(tx, id);
    const why =
      row.status !== 'ready' ? `it is ${row.status}` : row.pending_deps > 0 ? `${row.pending_deps} of its dependencies are not done` : row.run_at > tx.now ? `it runs at ${new Date(row.run_at).toISOString()}` : null;
    if (why !== null) throw new BatonError('CONFLICT', `task ${id} cannot be claimed: ${why}; nothing was claimed`, { details: { taskId: id, status: row.status } });
    claims.push(await claimRow(tx, row, sessionId, leaseMs));
  }
  return claims;
}

/** The task behind a claim, if the claim is current; a late call from an old claim is refused. */
export async function claimedRow(tx: StoreTx, ref: ClaimRef): Promise<TaskRow> {
  return expectClaimed(tx, await getTaskRow(tx, ref.taskId), ref);
}

/** The row, if the claim is still on it: else STALE_TOKEN (another claim, or none) or LEASE_EXPIRED. */
export function expectClaimed<R extends Pick<TaskRow, 'status' | 'claim_token' | 'claim_expires_at'>>(tx: StoreTx, row: R, ref: ClaimRef): R {
  if (row.claim_token !== ref.token || row.status !== 'claimed') {
    throw new BatonError('STALE_TOKEN', `claim token ${ref.token} no longer holds task ${ref.taskId} (it is ${row.status}${row.status === 'claimed' ? ` with token ${row.claim_token}` : ''})`, {
      details: { taskId: ref.taskId, token: ref.token, status: row.status },
    });
  }
  if (row.claim_expires_at !== null && row.claim_expires_at <= tx.now) {
    throw new BatonError('LEASE_EXPIRED', `the claim on task ${ref.taskId} expired at ${new Date(row.claim_expires_at).toISOString()}`, { details: { taskId: ref.taskId, token: ref.token } });
  }
  return row;
}

export async function renewClaim(tx: StoreTx, ref: ClaimRef, leaseMs: number): Promise<Claim> {
  const row = await claimedRow(tx, ref);
  const saved = await save(tx, { ...row, claim_expires_at: tx.now + leaseMs });
  return { taskId: row.id, task: taskFromRow(saved), token: ref.token, expiresAt: saved.claim_expires_at! };
}

export async function releaseClaim(tx: StoreTx, ref: ClaimRef): Promise<TaskRow> {
  const row = await claimedRow(tx, ref);
  const saved = await save(tx, { ...row, status: 'ready', claimed_by: null, claim_expires_at: null });
  await emit(tx, 'task.released', String(row.id), row.claimed_by, { token: ref.token });
  return saved;
}
