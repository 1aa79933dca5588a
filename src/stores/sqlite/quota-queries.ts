// The SQLite statements of quotas (src/engine/quotas.ts has the rules). Each
// count a check makes reads an index: a session's leases (leases_session),
// the claimed tasks (tasks_claims, one entry per claim held now), and the
// tasks not yet finished (four counts, each through an index of its part).
import type { QueryName } from '../store.ts';

type QuotaQuery = Extract<QueryName, `quota${string}`>;

/** The unfinished tasks (QUEUED_TASK_STATES), each part counted through its own index (schema.ts, migration 8). */
const queued = `(SELECT COUNT(*) FROM tasks WHERE status = 'ready' AND pending_deps = 0) + (SELECT COUNT(*) FROM tasks WHERE status = 'claimed')
  + (SELECT COUNT(*) FROM tasks WHERE status = 'awaiting_approval') + (SELECT COUNT(*) FROM tasks WHERE status = 'blocked' OR (status = 'ready' AND pending_deps > 0))`;
/** The limit of `quota` that applies to `agent`: its own row, else the project-wide one (''), else NULL. */
const limitOf = (quota: string, agent: string): string =>
  `(SELECT limit_value FROM quotas WHERE quota = ${quota} AND agent IN (${agent}, '') ORDER BY agent DESC LIMIT 1)`;

export const sqliteQuotaQueries: Record<QuotaQuery, string> = {
  quotaList: `SELECT * FROM quotas ORDER BY quota, agent`,
  quotaUpsert: `INSERT INTO quotas (quota, agent, limit_value, updated_at) VALUES ($quota, $agent, $limit, $now)
    ON CONFLICT (quota, agent) DO UPDATE SET limit_value = excluded.limit_value, updated_at = excluded.updated_at`,
  quotaDelete: `DELETE FROM quotas WHERE quota = $quota AND agent = $agent`,
  // Each check is one statement: the limit that applies (limitOf) and the use now.
  // CROSS JOIN keeps the claimed tasks outside (through tasks_claims), each session found by its key: sessions has no index by name.
  quotaClaimsOfAgent: `SELECT ${limitOf("'claims-per-agent'", '$agent')} AS limit_value,
    (SELECT COUNT(*) FROM tasks AS t CROSS JOIN sessions AS s ON s.id = t.claimed_by WHERE t.status = 'claimed' AND s.name = $agent) AS n`,
  quotaLeasesOfSession: `SELECT s.name AS agent, ${limitOf("'leases-per-session'", 's.name')} AS limit_value,
    (SELECT COUNT(*) FROM leases WHERE session_id = s.id) AS n FROM sessions AS s WHERE s.id = $sessionId`,
  quotaQueuedTasks: `SELECT ${limitOf("'queued-tasks'", "''")} AS limit_value, (${queued}) AS n`,
  quotaClaimsByAgent: `SELECT s.name AS agent, COUNT(*) AS n FROM tasks AS t CROSS JOIN sessions AS s ON s.id = t.claimed_by
    WHERE t.status = 'claimed' GROUP BY s.name ORDER BY n DESC, s.name LIMIT $limit`,
  quotaLeasesBySession: `SELECT l.session_id, s.name AS agent, COUNT(*) AS n FROM leases AS l CROSS JOIN sessions AS s ON s.id = l.session_id
    WHERE l.session_id IS NOT NULL GROUP BY l.session_id, s.name ORDER BY n DESC, l.session_id LIMIT $limit`,
};
