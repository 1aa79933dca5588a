// The PostgreSQL statements of quotas, as the SQLite store's
// (sqlite/quota-queries.ts). A check counts after it took the quota's lock
// (src/engine/quotas.ts): under READ COMMITTED the count is a statement that
// starts after every earlier holder of that lock committed, so it sees what
// they added.
import type { QueryName } from '../store.ts';

type QuotaQuery = Extract<QueryName, `quota${string}`>;

/** The unfinished tasks (QUEUED_TASK_STATES), each part counted through its own index (schema.ts, migration 5). */
const queued = `(SELECT COUNT(*) FROM tasks WHERE status = 'ready' AND pending_deps = 0) + (SELECT COUNT(*) FROM tasks WHERE status = 'claimed')
  + (SELECT COUNT(*) FROM tasks WHERE status = 'awaiting_approval') + (SELECT COUNT(*) FROM tasks WHERE status = 'blocked' OR (status = 'ready' AND pending_deps > 0))`;
const limitOf = (quota: string, agent: string): string =>
  `(SELECT limit_value FROM quotas WHERE quota = ${quota} AND agent IN (${agent}, '') ORDER BY agent DESC LIMIT 1)`;

export const postgresQuotaQueries: Record<QuotaQuery, string> = {
  quotaList: `SELECT * FROM quotas ORDER BY quota, agent`,
  quotaUpsert: `INSERT INTO quotas (quota, agent, limit_value, updated_at) VALUES ($quota, $agent, $limit, $now)
    ON CONFLICT (quota, agent) DO UPDATE SET limit_value = excluded.limit_value, updated_at = excluded.updated_at`,
  quotaDelete: `DELETE FROM quotas WHERE quota = $quota AND agent = $agent`,
  quotaClaimsOfAgent: `SELECT ${limitOf("'claims-per-agent'", '$agent::text')} AS limit_value,
    (SELECT COUNT(*)::int FROM tasks AS t JOIN sessions AS s ON s.id = t.claimed_by WHERE t.status = 'claimed' AND s.name = $agent::text) AS n`,
  quotaLeasesOfSession: `SELECT s.name AS agent, ${limitOf("'leases-per-session'", 's.name')} AS limit_value,
    (SELECT COUNT(*)::int FROM leases WHERE session_id = s.id) AS n FROM sessions AS s WHERE s.id = $sessionId::text`,
  quotaQueuedTasks: `SELECT ${limitOf("'queued-tasks'", "''")} AS limit_value, (${queued})::int AS n`,
  quotaClaimsByAgent: `SELECT s.name AS agent, COUNT(*)::int AS n FROM tasks AS t JOIN sessions AS s ON s.id = t.claimed_by
    WHERE t.status = 'claimed' GROUP BY s.name ORDER BY n DESC, s.name LIMIT $limit`,
  quotaLeasesBySession: `SELECT l.session_id, s.name AS agent, COUNT(*)::int AS n FROM leases AS l JOIN sessions AS s ON s.id = l.session_id
    WHERE l.session_id IS NOT NULL GROUP BY l.session_id, s.name ORDER BY n DESC, l.session_id LIMIT $limit`,
};
