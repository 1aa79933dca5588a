// Every SQL statement of the PostgreSQL store, by the name the engine asks for.
// Statements run under READ COMMITTED: each sees what was committed when it
// began. A read that a write transaction acts on takes its row lock
// (writeQueries below); rows that may not exist yet are covered by the
// engine's StoreTx.lock (a transaction-scoped advisory lock). Parameters are
// named as in the SQLite catalog; statements.ts numbers them.
import type { QueryName } from '../store.ts';
import { postgresApprovalQueries } from './approval-queries.ts';
import { postgresArtifactQueries } from './artifact-queries.ts';
import { postgresKvQueries, postgresKvWriteQueries } from './kv-queries.ts';
import { postgresProjectQueries } from './project-queries.ts';
import { postgresQuotaQueries } from './quota-queries.ts';
import { postgresMessageQueries } from './message-queries.ts';
import { postgresReleaseQueries } from './release-queries.ts';
import { postgresWebhookQueries } from './webhook-queries.ts';

const taskColumns = `queue, title, payload, depends_on, priority, position, status, run_at, attempts, max_attempts, pending_deps,
  reason, result, last_error, claimed_by, claim_token, claim_expires_at, version, created_at, updated_at`;

// What claiming does to a task (taskClaimReady, taskClaimIds).
const claimTasks = `UPDATE tasks SET status = 'claimed', attempts = attempts + 1, claimed_by = $sessionId,
  claim_token = GREATEST(claim_token + 1, $floor::bigint), claim_expires_at = $expiresAt, reason = NULL, version = version + 1, updated_at = $now`;
const readyTasks = `FROM tasks WHERE queue = $queue AND status = 'ready' AND pending_deps = 0 AND run_at <= $now
  ORDER BY priority DESC, position, id LIMIT $n FOR UPDATE SKIP LOCKED`;
const idList = `jsonb_array_elements_text($ids::jsonb) WITH ORDINALITY AS j(value, ord)`;

/**
 * Event seqs are taken from the one-row event_head, whose row lock the
 * transaction then holds until it commits: seqs are handed out in commit
 * order, so a reader resuming after seq n never misses an event committed
 * later with a smaller seq (a sequence would: nextval is not commit order).
 */
const nextSeqs = (count: string): string => `head AS (UPDATE event_head SET seq = seq + (${count}) RETURNING seq)`;
/**
 * Events made from tasks' rows. `lock`: the task rows are locked before the
 * event_head row, as every other writer of tasks takes them: a completion
 * that held event_head while it waited for a task row a claimer held (and the
 * claimer waited for event_head) was a deadlock.
 */
const taskEvents = (type: string, data: string, where: string, lock: boolean): string => `WITH rows AS MATERIALIZED (
    SELECT j.ord, t.id, t.claimed_by, t.claim_token, t.attempts, t.claim_expires_at
    FROM ${idList} JOIN tasks AS t ON t.id = j.value::bigint ${where}${lock ? ' FOR UPDATE OF t' : ''}),
  picked AS MATERIALIZED (SELECT row_number() OVER (ORDER BY rows.ord) AS n, rows.* FROM rows),
  ${nextSeqs('SELECT count(*) FROM picked')}
  INSERT INTO events (seq, at, type, key, actor, data)
  SELECT head.seq - (SELECT count(*) FROM picked) + picked.n, $now::bigint, '${type}', picked.id::text, picked.claimed_by, ${data}
  FROM picked, head ORDER BY picked.n`;

export const postgresQueries: Record<QueryName, string> = {
  // The fence row of a key is never deleted, and only ever raised: tokens survive every delete and restart.
  fenceGet: `SELECT last_token FROM fences WHERE key = $key`,
  fenceSet: `INSERT INTO fences (key, last_token) VALUES ($key, $token)
    ON CONFLICT (key) DO UPDATE SET last_token = GREATEST(fences.last_token, excluded.last_token)`,

  leaseInsert: `INSERT INTO leases (key, token, owner, mode, is_path, session_id, acquired_at, expires_at, waiter_id)
    VALUES ($key, $token, $owner, $mode, $isPath, $sessionId, $acquiredAt, $expiresAt, $waiterId)`,
  leaseByWaiter: `SELECT * FROM leases WHERE waiter_id = $id`,
  leaseGet: `SELECT * FROM leases WHERE key = $key AND token = $token`,
  leaseByKey: `SELECT * FROM leases WHERE key = $key ORDER BY token`,
  leasesConflictCandidates: `SELECT * FROM leases WHERE key = $key UNION ALL
    SELECT * FROM leases WHERE $isPath::int = 1 AND is_path = 1 AND key <> $key`,
  leaseList: `SELECT * FROM leases WHERE left(key, length($prefix::text)) = $prefix ORDER BY key, token`,
  leaseDelete: `DELETE FROM leases WHERE key = $key AND token = $token`,
  leaseRenew: `UPDATE leases SET expires_at = $expiresAt WHERE key = $key AND token = $token`,
  leasesExpired: `SELECT * FROM leases WHERE expires_at IS NOT NULL AND expires_at <= $now ORDER BY key, token`,
  leasesBySession: `SELECT * FROM leases WHERE session_id = $sessionId ORDER BY key, token`,

  waiterInsert: `INSERT INTO lease_waiters (key, owner, mode, is_path, since, seen_at, host, pid, pid_start, ttl_ms, session_id, idem_key, idem_hash)
    VALUES ($key, $owner, $mode, $isPath, $now, $now, $host, $pid, $pidStart, $ttlMs, $sessionId, $idemKey, $idemHash) RETURNING id`,
  waiterTouch: `UPDATE lease_waiters SET seen_at = $now WHERE id = $id`,
  waiterDelete: `DELETE FROM lease_waiters WHERE id = $id`,
  waitersBefore: `SELECT * FROM lease_waiters WHERE id < $id AND (key = $key OR ($isPath::int = 1 AND is_path = 1)) ORDER BY id`,
  waitersFor: `SELECT * FROM lease_waiters WHERE key = $key OR ($isPath::int = 1 AND is_path = 1) ORDER BY id`,
  waitersByKey: `SELECT * FROM lease_waiters WHERE key = $key ORDER BY id`,
  waitersStale: `SELECT * FROM lease_waiters WHERE seen_at < $before`,

  sessionInsert: `INSERT INTO sessions (id, name, kind, host, pid, pid_start, boot_id, labels, started_at, heartbeat_at, ttl_ms)
    VALUES ($id, $name, $kind, $host, $pid, $pidStart, $bootId, $labels, $now, $now, $ttlMs)`,
  sessionGet: `SELECT * FROM sessions WHERE id = $id`,
  sessionList: `SELECT * FROM sessions WHERE ended_at IS NULL ORDER BY started_at, id`,
  sessionListAll: `SELECT * FROM sessions ORDER BY started_at, id`,
  sessionHeartbeat: `UPDATE sessions SET heartbeat_at = $now WHERE id = $id AND ended_at IS NULL`,
  sessionEnd: `UPDATE sessions SET ended_at = $now, end_reason = $reason WHERE id = $id AND ended_at IS NULL`,
  sessionsLapsed: `SELECT * FROM sessions WHERE ended_at IS NULL AND heartbeat_at + ttl_ms <= $now`,
  sessionsOnHost: `SELECT * FROM sessions WHERE ended_at IS NULL AND host = $host AND pid IS NOT NULL`,

  taskInsert: `INSERT INTO tasks (${taskColumns}) VALUES ($queue, $title, $payload, $dependsOn, $priority, $position, $status, $runAt,
    0, $maxAttempts, $pendingDeps, $reason, NULL, NULL, NULL, 0, NULL, 1, $now, $now) RETURNING id`,
  taskGet: `SELECT * FROM tasks WHERE id = $id`,
  taskCounts: `SELECT status, COUNT(*) AS n FROM tasks WHERE ($queue::text IS NULL OR queue = $queue) GROUP BY status`,
  taskList: `SELECT * FROM tasks WHERE ($queue::text IS NULL OR queue = $queue) AND ($status::text IS NULL OR status = $status)
    ORDER BY priority DESC, position, id LIMIT $limit`,
  taskUpdate: `UPDATE tasks SET title = $title, payload = $payload, priority = $priority, position = $position, status = $status,
    run_at = $runAt, attempts = $attempts, max_attempts = $maxAttempts, pending_deps = $pendingDeps, reason = $reason,
    result = $result, last_error = $lastError, claimed_by = $claimedBy, claim_token = $claimToken,
    claim_expires_at = $claimExpiresAt, version = version + 1, updated_at = $now
    WHERE id = $id AND version = $version`,
  taskDelete: `DELETE FROM tasks WHERE id = $id AND version = $version`,
  // SKIP LOCKED in a MATERIALIZED CTE: the pick runs once, so the UPDATE can
  // never take more rows than $n (a LIMIT in an IN (...) subquery may be run
  // again by the planner and claim more: Oban #652).
  taskClaimReady: `WITH picked AS MATERIALIZED (SELECT id ${readyTasks})
    ${claimTasks} FROM picked WHERE tasks.id = picked.id RETURNING tasks.*`,
  taskComplete: `UPDATE tasks SET status = 'done', result = $result, claimed_by = NULL, claim_expires_at = NULL,
    version = version + 1, updated_at = $now WHERE id = $id AND version = $version`,
  taskDependencyDone: `UPDATE tasks SET pending_deps = GREATEST(0, pending_deps - 1), version = version + 1, updated_at = $now
    WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = $id)`,
  taskReadyIds: `SELECT id, claim_token ${readyTasks}`,
  taskClaimIds: `${claimTasks} WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text($ids::jsonb))`,
  taskGetMany: `SELECT tasks.* FROM ${idList} JOIN tasks ON tasks.id = j.value::bigint ORDER BY j.ord`,
  taskClaimStates: `SELECT tasks.id, tasks.status, tasks.claim_token, tasks.claim_expires_at
    FROM ${idList} JOIN tasks ON tasks.id = j.value::bigint ORDER BY j.ord`,
  taskCompleteMany: `UPDATE tasks SET status = 'done', result = c.result, claimed_by = NULL, claim_expires_at = NULL,
    version = tasks.version + 1, updated_at = $now
    FROM jsonb_to_recordset($list::jsonb) AS c(id bigint, token bigint, result text)
    WHERE tasks.id = c.id AND tasks.status = 'claimed' AND tasks.claim_token = c.token`,
  taskDependenciesDone: `UPDATE tasks SET pending_deps = GREATEST(0, pending_deps - d.n), version = version + 1, updated_at = $now
    FROM (SELECT task_id, COUNT(*) AS n FROM task_deps WHERE depends_on IN (SELECT value::bigint FROM jsonb_array_elements_text($ids::jsonb))
    GROUP BY task_id) AS d WHERE tasks.id = d.task_id`,
  tasksClaimExpired: `SELECT * FROM tasks WHERE status = 'claimed' AND claim_expires_at <= $now ORDER BY id`,
  tasksClaimedBy: `SELECT * FROM tasks WHERE status = 'claimed' AND claimed_by = $sessionId ORDER BY id`,
  taskSamePriority: `SELECT id, position FROM tasks WHERE queue = $queue AND priority = $priority
    AND status IN ('ready', 'blocked') ORDER BY position, id`,
  taskSetPosition: `UPDATE tasks SET position = $position WHERE id = $id`,
  depInsert: `INSERT INTO task_deps (task_id, depends_on) VALUES ($taskId, $dependsOn)`,
  dependentsOf: `SELECT t.* FROM task_deps d JOIN tasks t ON t.id = d.task_id WHERE d.depends_on = $id ORDER BY t.id`,
  depDeleteTask: `DELETE FROM task_deps WHERE task_id = $id`,

  budgetUpsert: `INSERT INTO budgets (scope, agent, model, limit_tokens, period, warn_percent, created_at)
    VALUES ($scope, $agent, $model, $limit, $period, $warnPercent, $now)
    ON CONFLICT (scope) DO UPDATE SET limit_tokens = excluded.limit_tokens, period = excluded.period, warn_percent = excluded.warn_percent`,
  budgetGet: `SELECT * FROM budgets WHERE scope = $scope`,
  budgetDelete: `DELETE FROM budgets WHERE scope = $scope`,
  budgetList: `SELECT * FROM budgets ORDER BY scope`,
  budgetUsageGet: `SELECT * FROM budget_usage WHERE scope = $scope AND period_start = $periodStart`,
  budgetUsageUpsert: `INSERT INTO budget_usage (scope, period_start, used, warned, exceeded) VALUES ($scope, $periodStart, $used, $warned, $exceeded)
    ON CONFLICT (scope, period_start) DO UPDATE SET used = excluded.used, warned = excluded.warned, exceeded = excluded.exceeded`,
  budgetUsageReset: `DELETE FROM budget_usage WHERE scope = $scope`,
  budgetUsageResetAll: `DELETE FROM budget_usage`,
  usageInsert: `INSERT INTO token_usage (at, agent, model, prompt_tokens, completion_tokens) VALUES ($now, $agent, $model, $prompt, $completion) RETURNING id`,
  usageByAgent: `SELECT agent, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion FROM token_usage
    WHERE at >= $since GROUP BY agent ORDER BY agent`,
  usageByModel: `SELECT model, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion FROM token_usage
    WHERE at >= $since GROUP BY model ORDER BY model`,
  reservationInsert: `INSERT INTO reservations (id, agent, model, estimate, created_at, expires_at) VALUES ($id, $agent, $model, $estimate, $now, $expiresAt)`,
  reservationGet: `SELECT * FROM reservations WHERE id = $id`,
  reservationDelete: `DELETE FROM reservations WHERE id = $id`,
  reservationsSum: `SELECT COALESCE(SUM(estimate), 0) AS total FROM reservations WHERE expires_at > $now
    AND ($agent::text IS NULL OR agent = $agent) AND ($model::text IS NULL OR model = $model)`,
  reservationsExpire: `DELETE FROM reservations WHERE expires_at <= $now`,

  rateGet: `SELECT * FROM rate_limits WHERE key = $key`,
  rateUpsert: `INSERT INTO rate_limits (key, rate, burst, tokens, updated_at) VALUES ($key, $rate, $burst, $tokens, $now)
    ON CONFLICT (key) DO UPDATE SET rate = excluded.rate, burst = excluded.burst, tokens = excluded.tokens, updated_at = excluded.updated_at`,
  rateSetTokens: `UPDATE rate_limits SET tokens = $tokens, updated_at = $now WHERE key = $key`,
  rateList: `SELECT * FROM rate_limits ORDER BY key`,

  eventInsert: `WITH ${nextSeqs('1')}
    INSERT INTO events (seq, at, type, key, actor, data) SELECT head.seq, $now::bigint, $type::text, $key::text, $actor::text, $data::text FROM head
    RETURNING seq`,
  eventsTasksClaimed: taskEvents('task.claimed', `json_build_object('token', picked.claim_token, 'attempt', picked.attempts, 'expiresAt', picked.claim_expires_at)::text`, '', false),
  eventsTasksCompleted: taskEvents(
    'task.completed',
    `json_build_object('token', picked.claim_token, 'attempt', picked.attempts)::text`,
    `WHERE t.status = 'claimed' AND (t.claim_expires_at IS NULL OR t.claim_expires_at > $now)`,
    true,
  ),
  eventsAfter: `SELECT * FROM events WHERE seq > $after ORDER BY seq LIMIT $limit`,
  eventsPruneAge: `DELETE FROM events WHERE seq < COALESCE((SELECT seq FROM events WHERE at >= $before ORDER BY seq LIMIT 1), (SELECT MAX(seq) FROM events))`,
  eventsPruneCount: `DELETE FROM events WHERE seq <= $below`,
  // Every seq up to the head is committed (the head moves in the transaction that writes them).
  eventsMaxSeq: `SELECT seq FROM event_head`,

  idemGet: `SELECT * FROM idempotency WHERE key = $key`,
  // A grant taken back before its waiter saw it: a retry of that request must not be answered with it.
  idemForget: `DELETE FROM idempotency WHERE key = $key AND request_hash = $hash`,
  idemInsert: `INSERT INTO idempotency (key, request_hash, result, created_at) VALUES ($key, $hash, $result, $now)
    ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, result = excluded.result, created_at = excluded.created_at`,
  idemPrune: `DELETE FROM idempotency WHERE created_at < $before`,

  metaGet: `SELECT value FROM meta WHERE key = $key`,
  metaSet: `INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,

  nodeInsert: `INSERT INTO nodes (id, name, host, pid, started_at, heartbeat_at, ttl_ms) VALUES ($id, $name, $host, $pid, $now, $now, $ttlMs)`,
  nodeHeartbeat: `UPDATE nodes SET heartbeat_at = $now WHERE id = $id AND ended_at IS NULL`,
  nodeEnd: `UPDATE nodes SET ended_at = $now WHERE id = $id AND ended_at IS NULL`,
  nodeList: `SELECT * FROM nodes WHERE ended_at IS NULL ORDER BY started_at, id`,
  sessionSetNode: `UPDATE sessions SET node_id = $nodeId WHERE id = $id AND ended_at IS NULL`,
  // A node's silence counts from the server's start at the earliest: nobody could heartbeat while it was down.
  sessionsOfLapsedNodes: `SELECT s.* FROM sessions AS s JOIN nodes AS n ON n.id = s.node_id
    WHERE s.node_id IS NOT NULL AND s.ended_at IS NULL AND (n.ended_at IS NOT NULL
    OR GREATEST(n.heartbeat_at, floor(extract(epoch FROM pg_postmaster_start_time()) * 1000)::bigint) + n.ttl_ms <= $now)`,
  ...postgresWebhookQueries,
  ...postgresMessageQueries,
  ...postgresReleaseQueries,
  ...postgresKvQueries,
  ...postgresQuotaQueries,
  ...postgresApprovalQueries,
  ...postgresArtifactQueries,
  ...postgresProjectQueries,
};

/**
 * The forms a write transaction runs instead: the rows it reads to change
 * are locked as it reads them, so a concurrent writer on another node waits
 * and then sees the change, never a version that moved on under it.
 */
export const writeQueries: Partial<Record<QueryName, string>> = {
  fenceGet: `${postgresQueries.fenceGet} FOR UPDATE`,
  // An acquire or claim for a session waits for its end to commit (then sees it ended), or the end waits for them.
  // FOR NO KEY UPDATE, not FOR SHARE: two writes that read the row and then update it (two heartbeats, two ends)
  // would each hold a share lock and wait for the other's; these queue instead.
  sessionGet: `${postgresQueries.sessionGet} FOR NO KEY UPDATE`,
  // A task read in a write is about to change, or is a dependency a new task counts: its completion must wait.
  taskGet: `${postgresQueries.taskGet} FOR UPDATE`,
  taskGetMany: `SELECT tasks.* FROM ${idList} JOIN tasks ON tasks.id = j.value::bigint ORDER BY j.ord FOR UPDATE OF tasks`,
  // Sweeps pass over rows another transaction is changing right now: the next sweep sees them.
  tasksClaimExpired: `${postgresQueries.tasksClaimExpired} FOR UPDATE SKIP LOCKED`,
  tasksClaimedBy: `${postgresQueries.tasksClaimedBy} FOR UPDATE`,
  dependentsOf: `${postgresQueries.dependentsOf} FOR UPDATE OF t`,
  rateGet: `${postgresQueries.rateGet} FOR UPDATE`,
  // Moving an endpoint's events into its outbox, or changing it: one daemon at a time, each seeing the cursor the last one left.
  webhookGet: `${postgresQueries.webhookGet} FOR UPDATE`,
  ...postgresKvWriteQueries,
};
