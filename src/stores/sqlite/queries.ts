// Every SQL statement of the SQLite store, by the name the engine asks for.
import type { QueryName } from '../store.ts';
import { sqliteApprovalQueries } from './approval-queries.ts';
import { sqliteArtifactQueries } from './artifact-queries.ts';
import { sqliteKvQueries } from './kv-queries.ts';
import { sqliteProjectQueries } from './project-queries.ts';
import { sqliteQuotaQueries } from './quota-queries.ts';
import { sqliteMessageQueries } from './message-queries.ts';
import { sqliteReleaseQueries } from './release-queries.ts';
import { sqliteWebhookQueries } from './webhook-queries.ts';

const taskColumns = `id, queue, title, payload, depends_on, priority, position, status, run_at, attempts, max_attempts, pending_deps,
  reason, result, last_error, claimed_by, claim_token, claim_expires_at, version, created_at, updated_at`;

// The ready tasks a claim takes, in claim order, and what claiming does to a task (taskClaimReady, taskReadyIds, taskClaimIds).
const readyIds = `SELECT id FROM tasks WHERE queue = $queue AND status = 'ready' AND pending_deps = 0 AND run_at <= $now
  ORDER BY priority DESC, position, id LIMIT $n`;
const claimTasks = `UPDATE tasks SET status = 'claimed', attempts = attempts + 1, claimed_by = $sessionId,
  claim_token = MAX(claim_token + 1, $floor), claim_expires_at = $expiresAt, reason = NULL, version = version + 1, updated_at = $now`;

export const sqliteQueries: Record<QueryName, string> = {
  fenceGet: `SELECT last_token FROM fences WHERE key = $key`,
  fenceSet: `INSERT INTO fences (key, last_token) VALUES ($key, $token)
    ON CONFLICT (key) DO UPDATE SET last_token = excluded.last_token`,

  leaseInsert: `INSERT INTO leases (key, token, owner, mode, is_path, session_id, acquired_at, expires_at, waiter_id)
    VALUES ($key, $token, $owner, $mode, $isPath, $sessionId, $acquiredAt, $expiresAt, $waiterId)`,
  leaseByWaiter: `SELECT * FROM leases WHERE waiter_id = $id`,
  leaseGet: `SELECT * FROM leases WHERE key = $key AND token = $token`,
  leaseByKey: `SELECT * FROM leases WHERE key = $key ORDER BY token`,
  leasesConflictCandidates: `SELECT * FROM leases WHERE key = $key UNION ALL
    SELECT * FROM leases WHERE $isPath = 1 AND is_path = 1 AND key <> $key`,
  leaseList: `SELECT * FROM leases WHERE substr(key, 1, length($prefix)) = $prefix ORDER BY key, token`,
  leaseDelete: `DELETE FROM leases WHERE key = $key AND token = $token`,
  leaseRenew: `UPDATE leases SET expires_at = $expiresAt WHERE key = $key AND token = $token`,
  leasesExpired: `SELECT * FROM leases WHERE expires_at IS NOT NULL AND expires_at <= $now`,
  leasesBySession: `SELECT * FROM leases WHERE session_id = $sessionId`,

  waiterInsert: `INSERT INTO lease_waiters (key, owner, mode, is_path, since, seen_at, host, pid, pid_start, ttl_ms, session_id, idem_key, idem_hash)
    VALUES ($key, $owner, $mode, $isPath, $now, $now, $host, $pid, $pidStart, $ttlMs, $sessionId, $idemKey, $idemHash)`,
  waiterTouch: `UPDATE lease_waiters SET seen_at = $now WHERE id = $id`,
  waiterDelete: `DELETE FROM lease_waiters WHERE id = $id`,
  waitersBefore: `SELECT * FROM lease_waiters WHERE id < $id AND (key = $key OR ($isPath = 1 AND is_path = 1)) ORDER BY id`,
  waitersFor: `SELECT * FROM lease_waiters WHERE key = $key OR ($isPath = 1 AND is_path = 1) ORDER BY id`,
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

  taskInsert: `INSERT INTO tasks (${taskColumns}) VALUES (NULL, $queue, $title, $payload, $dependsOn, $priority, $position, $status, $runAt,
    0, $maxAttempts, $pendingDeps, $reason, NULL, NULL, NULL, 0, NULL, 1, $now, $now)`,
  taskGet: `SELECT * FROM tasks WHERE id = $id`,
  taskCounts: `SELECT status, COUNT(*) AS n FROM tasks WHERE ($queue IS NULL OR queue = $queue) GROUP BY status`,
  taskList: `SELECT * FROM tasks WHERE ($queue IS NULL OR queue = $queue) AND ($status IS NULL OR status = $status)
    ORDER BY priority DESC, position, id LIMIT $limit`,
  taskUpdate: `UPDATE tasks SET title = $title, payload = $payload, priority = $priority, position = $position, status = $status,
    run_at = $runAt, attempts = $attempts, max_attempts = $maxAttempts, pending_deps = $pendingDeps, reason = $reason,
    result = $result, last_error = $lastError, claimed_by = $claimedBy, claim_token = $claimToken,
    claim_expires_at = $claimExpiresAt, version = version + 1, updated_at = $now
    WHERE id = $id AND version = $version`,
  taskDelete: `DELETE FROM tasks WHERE id = $id AND version = $version`,
  taskClaimReady: `${claimTasks} WHERE id IN (${readyIds}) RETURNING *`,
  // One task done: the single-row forms (the set-based ones below cost twice as much for one row).
  taskComplete: `UPDATE tasks SET status = 'done', result = $result, claimed_by = NULL, claim_expires_at = NULL,
    version = version + 1, updated_at = $now WHERE id = $id AND version = $version`,
  taskDependencyDone: `UPDATE tasks SET pending_deps = MAX(0, pending_deps - 1), version = version + 1, updated_at = $now
    WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = $id)`,
  // A large claim in steps: the ids in claim order with their last tokens, then the claim of those ids.
  taskReadyIds: readyIds.replace('SELECT id FROM', 'SELECT id, claim_token FROM'),
  taskClaimIds: `${claimTasks} WHERE id IN (SELECT value FROM json_each($ids))`,
  // The set-based statements take their rows as one JSON array ($list, $ids): one call per batch, not one per row.
  taskGetMany: `SELECT tasks.* FROM json_each($ids) AS j JOIN tasks ON tasks.id = j.value`,
  // What a completion checks, not the whole row: read only to say which claim of a batch does not hold.
  taskClaimStates: `SELECT tasks.id, tasks.status, tasks.claim_token, tasks.claim_expires_at
    FROM json_each($ids) AS j JOIN tasks ON tasks.id = j.value`,
  // $list: [{ id, token, result }]; only a claimed task under that token is completed.
  taskCompleteMany: `UPDATE tasks SET status = 'done', result = c.value ->> 'result', claimed_by = NULL, claim_expires_at = NULL,
    version = tasks.version + 1, updated_at = $now
    FROM json_each($list) AS c WHERE tasks.id = c.value ->> 'id' AND tasks.status = 'claimed' AND tasks.claim_token = c.value ->> 'token'`,
  taskDependenciesDone: `UPDATE tasks SET pending_deps = MAX(0, pending_deps - d.n), version = version + 1, updated_at = $now
    FROM (SELECT task_id, COUNT(*) AS n FROM task_deps WHERE depends_on IN (SELECT value FROM json_each($ids)) GROUP BY task_id) AS d
    WHERE tasks.id = d.task_id`,
  tasksClaimExpired: `SELECT * FROM tasks WHERE status = 'claimed' AND claim_expires_at <= $now`,
  tasksClaimedBy: `SELECT * FROM tasks WHERE status = 'claimed' AND claimed_by = $sessionId`,
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
  usageInsert: `INSERT INTO token_usage (at, agent, model, prompt_tokens, completion_tokens) VALUES ($now, $agent, $model, $prompt, $completion)`,
  usageByAgent: `SELECT agent, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion FROM token_usage
    WHERE at >= $since GROUP BY agent ORDER BY agent`,
  usageByModel: `SELECT model, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion FROM token_usage
    WHERE at >= $since GROUP BY model ORDER BY model`,
  reservationInsert: `INSERT INTO reservations (id, agent, model, estimate, created_at, expires_at) VALUES ($id, $agent, $model, $estimate, $now, $expiresAt)`,
  reservationGet: `SELECT * FROM reservations WHERE id = $id`,
  reservationDelete: `DELETE FROM reservations WHERE id = $id`,
  reservationsSum: `SELECT COALESCE(SUM(estimate), 0) AS total FROM reservations WHERE expires_at > $now
    AND ($agent IS NULL OR agent = $agent) AND ($model IS NULL OR model = $model)`,
  reservationsExpire: `DELETE FROM reservations WHERE expires_at <= $now`,

  rateGet: `SELECT * FROM rate_limits WHERE key = $key`,
  rateUpsert: `INSERT INTO rate_limits (key, rate, burst, tokens, updated_at) VALUES ($key, $rate, $burst, $tokens, $now)
    ON CONFLICT (key) DO UPDATE SET rate = excluded.rate, burst = excluded.burst, tokens = excluded.tokens, updated_at = excluded.updated_at`,
  rateSetTokens: `UPDATE rate_limits SET tokens = $tokens, updated_at = $now WHERE key = $key`,
  rateList: `SELECT * FROM rate_limits ORDER BY key`,

  eventInsert: `INSERT INTO events (at, type, key, actor, data) VALUES ($now, $type, $key, $actor, $data)`,
  // A batch of tasks' events, made from their rows (in the order of $ids): a claim's after it, a completion's before it.
  eventsTasksClaimed: `INSERT INTO events (at, type, key, actor, data)
    SELECT $now, 'task.claimed', t.id, t.claimed_by, json_object('token', t.claim_token, 'attempt', t.attempts, 'expiresAt', t.claim_expires_at)
    FROM json_each($ids) AS j JOIN tasks AS t ON t.id = j.value ORDER BY j.key`,
  // Only for tasks still claimed, their claims not expired: a completion counts the events made (the update checks the tokens).
  eventsTasksCompleted: `INSERT INTO events (at, type, key, actor, data)
    SELECT $now, 'task.completed', t.id, t.claimed_by, json_object('token', t.claim_token, 'attempt', t.attempts)
    FROM json_each($ids) AS j JOIN tasks AS t ON t.id = j.value
    WHERE t.status = 'claimed' AND (t.claim_expires_at IS NULL OR t.claim_expires_at > $now)
    ORDER BY j.key`,
  eventsAfter: `SELECT * FROM events WHERE seq > $after ORDER BY seq LIMIT $limit`,
  // Rows are in time order (at is read once the write lock is held): delete up to the first young one; keep the newest.
  eventsPruneAge: `DELETE FROM events WHERE seq < COALESCE((SELECT seq FROM events WHERE at >= $before ORDER BY seq LIMIT 1), (SELECT MAX(seq) FROM events))`,
  eventsPruneCount: `DELETE FROM events WHERE seq <= $below`,
  eventsMaxSeq: `SELECT COALESCE(MAX(seq), 0) AS seq FROM events`,

  idemGet: `SELECT * FROM idempotency WHERE key = $key`,
  // A grant taken back before its waiter saw it: a retry of that request must not be answered with it.
  idemForget: `DELETE FROM idempotency WHERE key = $key AND request_hash = $hash`,
  // REPLACE gives a reused key a new rowid, keeping rowids in time order for the prune.
  idemInsert: `INSERT OR REPLACE INTO idempotency (key, request_hash, result, created_at) VALUES ($key, $hash, $result, $now)`,
  idemPrune: `DELETE FROM idempotency WHERE rowid < COALESCE((SELECT rowid FROM idempotency WHERE created_at >= $before ORDER BY rowid LIMIT 1),
    (SELECT MAX(rowid) + 1 FROM idempotency))`,

  metaGet: `SELECT value FROM meta WHERE key = $key`,
  metaSet: `INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,

  nodeInsert: `INSERT INTO nodes (id, name, host, pid, started_at, heartbeat_at, ttl_ms) VALUES ($id, $name, $host, $pid, $now, $now, $ttlMs)`,
  nodeHeartbeat: `UPDATE nodes SET heartbeat_at = $now WHERE id = $id AND ended_at IS NULL`,
  nodeEnd: `UPDATE nodes SET ended_at = $now WHERE id = $id AND ended_at IS NULL`,
  nodeList: `SELECT * FROM nodes WHERE ended_at IS NULL ORDER BY started_at, id`,
  sessionSetNode: `UPDATE sessions SET node_id = $nodeId WHERE id = $id AND ended_at IS NULL`,
  sessionsOfLapsedNodes: `SELECT s.* FROM sessions AS s JOIN nodes AS n ON n.id = s.node_id
    WHERE s.node_id IS NOT NULL AND s.ended_at IS NULL AND (n.ended_at IS NOT NULL OR n.heartbeat_at + n.ttl_ms <= $now)`,
  ...sqliteWebhookQueries,
  ...sqliteMessageQueries,
  ...sqliteReleaseQueries,
  ...sqliteKvQueries,
  ...sqliteQuotaQueries,
  ...sqliteApprovalQueries,
  ...sqliteArtifactQueries,
  ...sqliteProjectQueries,
};
