// Views: what the agent reads back. Times are ISO strings, holders are named
// by agent and reason, and fields are snake_case like the tools' inputs.
import type { BudgetStatus, Coordinator, Lease, Session, Task } from '../../coordinator.ts';
import { pathsOverlap } from '../../engine/paths.ts';
import { MAX_NAME_LENGTH, PATH_PREFIX } from '../../limits.ts';
import type { ToolContext } from './tool.ts';

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A lease's owner: the agent's name and why it holds it; holderView splits the two apart again. */
export function ownerFor(agent: string, why: string | undefined): string {
  return (why === undefined ? agent : `${agent}: ${why}`).slice(0, MAX_NAME_LENGTH);
}

export interface HolderView {
  key: string;
  mode: string;
  agent: string;
  reason: string | null;
  since: string | null;
  held_seconds: number;
  expires: string | null;
  session_id: string | null;
  mine: boolean;
}

export function holderView(lease: Lease, sessions: Map<string, Session>, mine: string | undefined, now: number): HolderView {
  const name = lease.sessionId === null ? undefined : sessions.get(lease.sessionId)?.name;
  const split = name !== undefined && lease.owner.startsWith(`${name}: `);
  return {
    key: lease.key,
    mode: lease.mode,
    agent: split ? name : lease.owner,
    reason: split ? lease.owner.slice(name.length + 2) : null,
    since: iso(lease.acquiredAt),
    held_seconds: Math.max(0, Math.round((now - lease.acquiredAt) / 1000)),
    expires: lease.expiresAt === null ? 'when its agent disconnects' : iso(lease.expiresAt),
    session_id: lease.sessionId,
    mine: mine !== undefined && lease.sessionId === mine,
  };
}

export function describeHolder(h: HolderView): string {
  return `${h.mine ? 'you' : h.agent} (${h.mode} ${h.key}, for ${h.held_seconds} s${h.reason === null ? '' : `, reason: ${h.reason}`})`;
}

export async function sessionsById(c: Coordinator): Promise<Map<string, Session>> {
  return new Map((await c.listSessions()).map((s) => [s.id, s]));
}

/** Who holds path leases overlapping `patterns` now. */
export async function pathHolders(ctx: ToolContext, patterns: string[]): Promise<HolderView[]> {
  const c = ctx.backend.coordinator;
  const [leases, sessions, me] = await Promise.all([c.listLeases({ prefix: PATH_PREFIX }), sessionsById(c), ctx.agent.current()]);
  const now = Date.now();
  return leases
    .filter((l) => l.key.startsWith(PATH_PREFIX) && patterns.some((p) => pathsOverlap(l.key.slice(PATH_PREFIX.length), p)))
    .map((l) => holderView(l, sessions, me?.id, now));
}

export function taskView(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    queue: t.queue,
    title: t.title,
    status: t.status,
    priority: t.priority,
    payload: t.payload ?? null,
    attempts: t.attempts,
    max_attempts: t.maxAttempts,
    depends_on: t.dependsOn,
    ...(t.status === 'ready' && t.pendingDeps > 0 ? { waiting_for: `${t.pendingDeps} of depends_on not done yet; not claimable until then` } : {}),
    ...(t.reason === null ? {} : { reason: t.reason }),
    ...(t.lastError === null ? {} : { last_error: t.lastError }),
    ...(t.result === null || t.result === undefined ? {} : { result: t.result }),
    ...(t.artifacts === undefined || t.artifacts.length === 0 ? {} : { artifacts: t.artifacts }),
    ...(t.claimedBy === null ? {} : { claimed_by: t.claimedBy, claim_expires: iso(t.claimExpiresAt) }),
    ...(t.approval === null ? {} : { approval: { state: t.approval.state, by: t.approval.by, reason: t.approval.reason, at: iso(t.approval.at) } }),
  };
}

export function budgetView(b: BudgetStatus): Record<string, unknown> {
  return { scope: b.scope, period: b.period, limit: b.limit, used: b.used, reserved: b.reserved, remaining: b.remaining, warning: b.warning, exceeded: b.exceeded };
}
