// Quotas as lines to show (`baton quota list`, `baton status`, the dashboard):
// each quota's project-wide limit, then the agents (or sessions) using it the
// most, then agents with a limit of their own that use none of it now.
import type { QuotaName, QuotaStatus } from '../coordinator.ts';

export interface QuotaLine {
  /** Unique among the lines: the quota and who. */
  id: string;
  quota: QuotaName;
  /** 'each agent', 'each session', 'the queue', 'agent w3', 'session <id> (w3)'. */
  who: string;
  /** null on a quota's project-wide line (claims and leases: its use is per agent or session). */
  used: number | null;
  /** null: no limit. */
  limit: number | null;
}

export function quotaLines(statuses: readonly QuotaStatus[]): QuotaLine[] {
  const lines: QuotaLine[] = [];
  const line = (quota: QuotaName, who: string, used: number | null, limit: number | null): void => {
    lines.push({ id: `${quota}\0${who}`, quota, who, used, limit });
  };
  for (const s of statuses) {
    if (s.quota === 'queued-tasks') {
      line(s.quota, 'the queue', s.usage[0]?.used ?? 0, s.limit);
      continue;
    }
    line(s.quota, s.quota === 'claims-per-agent' ? 'each agent' : 'each session', null, s.limit);
    const shown = new Set<string>();
    for (const u of s.usage) {
      shown.add(u.agent ?? '');
      line(s.quota, u.sessionId === null ? `agent ${u.agent}` : `session ${u.sessionId} (${u.agent})`, u.used, u.limit);
    }
    for (const a of s.agents) if (!shown.has(a.agent)) line(s.quota, `agent ${a.agent}`, 0, a.limit);
  }
  return lines;
}
