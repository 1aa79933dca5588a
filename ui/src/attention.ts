// What needs a person, worked out from the snapshot (a pure function, so it is
// cheap to test and to recompute each second): leases about to lapse or held
// by a session that went silent, claims past their deadline, tasks failing
// again and again, tasks awaiting a person's approval, budgets past their
// warning, waiters queued long, callers
// being rate limited, agents that stopped heartbeating. Each item links to the
// view and row that shows it.
import type { ParamChanges } from './url-state.ts';
import type { BudgetStatus, Lease, LeaseInfo, RateLimitStatus, Session, Task } from './types.ts';
import { duration, firstLine } from './format.ts';

export type AttentionKind = 'lease-expiring' | 'lease-silent-holder' | 'claim-overdue' | 'task-failing' | 'approval-waiting' | 'budget-warning' | 'waiter-long' | 'rate-limited' | 'session-silent';

export interface AttentionItem {
  id: string;
  kind: AttentionKind;
  severity: 'warning' | 'critical';
  text: string;
  link: ParamChanges;
}

export interface AttentionInput {
  leases: readonly Lease[];
  sessions: readonly Session[];
  tasks: readonly Task[];
  budgets: readonly BudgetStatus[];
  rateLimits: readonly RateLimitStatus[];
  leaseInfo: ReadonlyMap<string, LeaseInfo>;
  throttled: ReadonlyArray<{ key: string; actor: string | null; count: number }>;
  now: number;
}

/** A lease is "near expiry" with less than this left (and less than a quarter of its life). */
export const EXPIRY_WARN_MS = 10_000;
/** A waiter is "queued long" after this. */
export const WAIT_WARN_MS = 30_000;
/** A task is "failing repeatedly" from this many failed attempts. */
export const FAILING_ATTEMPTS = 2;

export const leaseRowKey = (l: Lease): string => `${l.key}#${l.token}`;

/** Heartbeat health: fresh (within half its TTL; clients beat every third), late (a beat missed), or silent (past its TTL: the sweep ends it). */
export function heartbeatHealth(s: Session, now: number): 'fresh' | 'late' | 'silent' {
  const age = now - s.heartbeatAt;
  return age <= s.ttlMs / 2 ? 'fresh' : age <= s.ttlMs ? 'late' : 'silent';
}

export function attention(input: AttentionInput): AttentionItem[] {
  const { now } = input;
  const items: AttentionItem[] = [];
  const sessions = new Map(input.sessions.map((s) => [s.id, s]));

  for (const l of input.leases) {
    const link = { view: 'holders', sel: leaseRowKey(l), details: 1 };
    if (l.expiresAt !== null) {
      const left = l.expiresAt - now;
      const life = l.expiresAt - l.acquiredAt;
      if (left <= 0) items.push({ id: `exp:${l.key}#${l.token}`, kind: 'lease-expiring', severity: 'critical', text: `lease ${l.key} (${l.owner}) lapsed ${duration(-left)} ago, not yet swept`, link });
      else if (left < EXPIRY_WARN_MS && left < life / 4) items.push({ id: `exp:${l.key}#${l.token}`, kind: 'lease-expiring', severity: 'warning', text: `lease ${l.key} (${l.owner}) expires in ${duration(left)}`, link });
    }
    if (l.sessionId !== null) {
      // Late: a beat was missed (clients beat every third of the TTL); silent: past the TTL, the sweep ends it.
      const s = sessions.get(l.sessionId);
      const health = s === undefined ? 'fresh' : heartbeatHealth(s, now);
      if (s !== undefined && health !== 'fresh') {
        items.push({ id: `silent-holder:${l.key}#${l.token}`, kind: 'lease-silent-holder', severity: health === 'silent' ? 'critical' : 'warning', text: `lease ${l.key} held by ${s.name}, no heartbeat for ${duration(now - s.heartbeatAt)}`, link });
      }
    }
  }

  for (const [key, info] of input.leaseInfo) {
    const oldest = info.waiters[0];
    if (oldest !== undefined && now - oldest.since >= WAIT_WARN_MS) {
      const others = info.waiters.length > 1 ? ` (+${info.waiters.length - 1} more)` : '';
      const holder = info.holders[0];
      items.push({
        id: `wait:${key}`,
        kind: 'waiter-long',
        severity: 'warning',
        text: `${oldest.owner} has waited ${duration(now - oldest.since)} for ${key}${others}`,
        link: { view: 'holders', sel: holder === undefined ? null : leaseRowKey(holder), q: holder === undefined ? key : null, details: 1 },
      });
    }
  }

  let failing = 0;
  let failingExample: Task | undefined;
  for (const t of input.tasks) {
    if (t.status === 'claimed' && t.claimExpiresAt !== null && t.claimExpiresAt < now) {
      items.push({ id: `claim:${t.id}`, kind: 'claim-overdue', severity: 'critical', text: `task #${t.id} ${firstLine(t.title, 40)}: claim ${duration(now - t.claimExpiresAt)} past its deadline`, link: { view: 'queue', state: 'claimed', sel: t.id, details: 1 } });
    }
    if ((t.status === 'ready' || t.status === 'claimed') && t.lastError !== null && t.attempts >= FAILING_ATTEMPTS) {
      failing++;
      if (failingExample === undefined || t.attempts > failingExample.attempts) failingExample = t;
    }
  }
  if (failing > 0 && failingExample !== undefined) {
    const e = failingExample;
    items.push({
      id: 'failing',
      kind: 'task-failing',
      severity: 'warning',
      text: failing === 1 ? `task #${e.id} failed ${e.attempts} times: ${firstLine(e.lastError ?? '', 60)}` : `${failing} tasks failing repeatedly (e.g. #${e.id}, ${e.attempts} attempts: ${firstLine(e.lastError ?? '', 40)})`,
      link: { view: 'queue', state: 'failed', sel: e.id },
    });
  }

  // Tasks nobody can claim until a person decides: one line, linked to the one waiting longest.
  const waiting = input.tasks.filter((t) => t.status === 'awaiting_approval');
  const oldest = waiting.reduce<Task | undefined>((o, t) => (o === undefined || t.createdAt < o.createdAt ? t : o), undefined);
  if (oldest !== undefined) {
    const since = `waiting ${duration(now - oldest.createdAt)}`;
    items.push({
      id: 'approval',
      kind: 'approval-waiting',
      severity: 'warning',
      text: waiting.length === 1 ? `task #${oldest.id} ${firstLine(oldest.title, 40)} awaits approval (${since})` : `${waiting.length} tasks await approval (the oldest #${oldest.id}, ${since})`,
      link: { view: 'queue', state: 'awaiting_approval', sel: oldest.id, details: 1 },
    });
  }

  for (const b of input.budgets) {
    if (!b.warning && !b.exceeded) continue;
    const pct = b.limit === 0 ? 100 : Math.round(((b.used + b.reserved) / b.limit) * 100);
    items.push({ id: `budget:${b.scope}`, kind: 'budget-warning', severity: b.exceeded ? 'critical' : 'warning', text: `budget ${b.scope} ${b.exceeded ? 'exceeded' : 'past its warning'}: ${pct}% of ${b.limit}`, link: { view: 'budgets', sel: b.scope } });
  }

  const limitedKeys = new Set<string>();
  for (const t of input.throttled) {
    limitedKeys.add(t.key);
    items.push({ id: `rl:${t.key}\n${t.actor ?? ''}`, kind: 'rate-limited', severity: 'warning', text: `${t.actor ?? 'a caller'} rate limited on ${t.key} (${t.count}× in the last minute)`, link: { view: 'budgets', sel: `rl:${t.key}` } });
  }
  for (const r of input.rateLimits) {
    if (r.available < 0 && !limitedKeys.has(r.key)) {
      items.push({ id: `rl:${r.key}`, kind: 'rate-limited', severity: 'warning', text: `callers queued on rate limit ${r.key} (${Math.ceil(-r.available)} tokens owed)`, link: { view: 'budgets', sel: `rl:${r.key}` } });
    }
  }

  for (const s of input.sessions) {
    const health = heartbeatHealth(s, now);
    if (s.endedAt === null && health !== 'fresh') {
      items.push({ id: `session:${s.id}`, kind: 'session-silent', severity: health === 'silent' ? 'critical' : 'warning', text: `agent ${s.name} (${s.host}${s.pid === null ? '' : ` pid ${s.pid}`}) sent no heartbeat for ${duration(now - s.heartbeatAt)} (it ends after ${duration(s.ttlMs)})`, link: { view: 'agents', sel: s.id, details: 1 } });
    }
  }

  // Critical first; within a severity, the order above (leases, waits, claims, failures, budgets, limits, agents).
  return items.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}
