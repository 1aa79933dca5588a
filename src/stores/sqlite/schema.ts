// Versioned schema migrations for the SQLite store. PRAGMA user_version holds
// the number of migrations applied; each runs in its own write transaction.
// Times are integer milliseconds since the epoch.

export const migrations: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE fences (key TEXT PRIMARY KEY, last_token INTEGER NOT NULL);

  CREATE TABLE leases (
    key TEXT NOT NULL, token INTEGER NOT NULL, owner TEXT NOT NULL, mode TEXT NOT NULL,
    is_path INTEGER NOT NULL, session_id TEXT, acquired_at INTEGER NOT NULL, expires_at INTEGER,
    PRIMARY KEY (key, token)
  );
  CREATE INDEX leases_path ON leases (is_path) WHERE is_path = 1;
  CREATE INDEX leases_session ON leases (session_id) WHERE session_id IS NOT NULL;
  CREATE INDEX leases_expiry ON leases (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE lease_waiters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, owner TEXT NOT NULL, mode TEXT NOT NULL,
    is_path INTEGER NOT NULL, since INTEGER NOT NULL, seen_at INTEGER NOT NULL,
    host TEXT, pid INTEGER, pid_start INTEGER
  );
  CREATE INDEX lease_waiters_key ON lease_waiters (key);

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER, pid_start INTEGER, boot_id TEXT, labels TEXT NOT NULL,
    started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, ttl_ms INTEGER NOT NULL,
    ended_at INTEGER, end_reason TEXT
  );
  CREATE INDEX sessions_live ON sessions (heartbeat_at) WHERE ended_at IS NULL;

  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, title TEXT NOT NULL, payload TEXT, depends_on TEXT NOT NULL,
    priority INTEGER NOT NULL, position REAL NOT NULL, status TEXT NOT NULL, run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL, pending_deps INTEGER NOT NULL,
    reason TEXT, result TEXT, last_error TEXT,
    claimed_by TEXT, claim_token INTEGER NOT NULL, claim_expires_at INTEGER,
    version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX tasks_ready ON tasks (queue, priority DESC, position, id) WHERE status = 'ready' AND pending_deps = 0;
  CREATE INDEX tasks_claims ON tasks (claim_expires_at) WHERE status = 'claimed';
  CREATE INDEX tasks_claimed_by ON tasks (claimed_by) WHERE status = 'claimed';
  CREATE TABLE task_deps (task_id INTEGER NOT NULL, depends_on INTEGER NOT NULL, PRIMARY KEY (task_id, depends_on));
  CREATE INDEX task_deps_reverse ON task_deps (depends_on);

  CREATE TABLE budgets (
    scope TEXT PRIMARY KEY, agent TEXT, model TEXT, limit_tokens INTEGER NOT NULL,
    period TEXT NOT NULL, warn_percent REAL NOT NULL, created_at INTEGER NOT NULL
  );
  CREATE TABLE budget_usage (
    scope TEXT NOT NULL, period_start INTEGER NOT NULL, used INTEGER NOT NULL,
    warned INTEGER NOT NULL, exceeded INTEGER NOT NULL, PRIMARY KEY (scope, period_start)
  );
  CREATE TABLE token_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL
  );
  CREATE INDEX token_usage_at ON token_usage (at);
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY, agent TEXT NOT NULL, model TEXT, estimate INTEGER NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
  );

  CREATE TABLE rate_limits (key TEXT PRIMARY KEY, rate REAL NOT NULL, burst REAL NOT NULL, tokens REAL NOT NULL, updated_at INTEGER NOT NULL);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,
    key TEXT, actor TEXT, data TEXT NOT NULL
  );
  CREATE INDEX events_at ON events (at);

  CREATE TABLE idempotency (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, result TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE INDEX idempotency_age ON idempotency (created_at);
  `,
  // 2: a release hands the lease straight to the first waiter in line (leases.handOff):
  // the waiter's request is stored with it, and the lease names the waiter it went to.
  // Cheaper commits: the event log and the idempotency records lose their time
  // indexes (both are pruned from their oldest row up to the first young one,
  // rows being in time order), and events their AUTOINCREMENT (one page less per
  // commit); the newest event is never pruned, so seq still never goes back.
  `
  CREATE TABLE events_v2 (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, type TEXT NOT NULL, key TEXT, actor TEXT, data TEXT NOT NULL);
  INSERT INTO events_v2 (seq, at, type, key, actor, data) SELECT seq, at, type, key, actor, data FROM events;
  INSERT INTO events_v2 (seq, at, type, key, actor, data)
    SELECT seq, CAST(unixepoch('subsec') * 1000 AS INTEGER), 'store.upgraded', NULL, NULL, '{"schema":2}' FROM sqlite_sequence
    WHERE name = 'events' AND seq > (SELECT COALESCE(MAX(seq), 0) FROM events_v2);
  DROP TABLE events;
  ALTER TABLE events_v2 RENAME TO events;
  DROP INDEX idempotency_age;
  ALTER TABLE lease_waiters ADD COLUMN ttl_ms INTEGER;
  ALTER TABLE lease_waiters ADD COLUMN session_id TEXT;
  ALTER TABLE lease_waiters ADD COLUMN idem_key TEXT;
  ALTER TABLE lease_waiters ADD COLUMN idem_hash TEXT;
  ALTER TABLE leases ADD COLUMN waiter_id INTEGER;
  CREATE INDEX leases_waiter ON leases (waiter_id) WHERE waiter_id IS NOT NULL;
  `,
  // 3: no index of claimed tasks by session. Every claim and completion paid for
  // it (7% of the instructions of claim 500 + completeMany); the one query that
  // used it, a session's claims when it ends, reads the claimed tasks instead.
  `
  DROP INDEX IF EXISTS tasks_claimed_by;
  `,
  // 4: daemons as nodes. Each daemon registers a node and heartbeats it; a
  // session attached to a daemon names its node, and ends when the node lapses
  // (the daemon died), so its leases and claims come back without a human.
  `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, ttl_ms INTEGER NOT NULL, ended_at INTEGER
  );
  ALTER TABLE sessions ADD COLUMN node_id TEXT;
  CREATE INDEX sessions_node ON sessions (node_id) WHERE node_id IS NOT NULL AND ended_at IS NULL;
  `,
  // 5: webhooks (docs/webhooks.md). An endpoint's cursor is the last event seq
  // turned into its deliveries; a delivery is one event for one endpoint, sent
  // until it is answered 2xx or given up, and claimed by a daemon's node
  // (locked_by, locked_until) while it is in flight.
  `
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, old_secret TEXT, old_secret_until INTEGER,
    allow_private INTEGER NOT NULL, disable_after_ms INTEGER NOT NULL, cursor INTEGER NOT NULL, created_at INTEGER NOT NULL,
    failing_since INTEGER, disabled_at INTEGER, disabled_reason TEXT
  );
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, event_seq INTEGER, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, locked_by TEXT, locked_until INTEGER,
    last_status INTEGER, last_error TEXT, last_ms INTEGER, outcomes TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
  CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (endpoint_id, event_seq) WHERE event_seq IS NOT NULL;
  `,
  // 6: messages between agents, and requests to release a lease (src/engine/messages.ts,
  // release-requests.ts). A message is one row; each recipient's copy (its inbox
  // entry, with read and acknowledged times) another.
  `
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, thread TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
    importance TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT, created_at INTEGER NOT NULL
  );
  CREATE INDEX messages_thread ON messages (thread, id);
  CREATE TABLE message_recipients (
    recipient TEXT NOT NULL, message_id INTEGER NOT NULL, read_at INTEGER, acked_at INTEGER, PRIMARY KEY (recipient, message_id)
  );
  CREATE INDEX message_recipients_message ON message_recipients (message_id);
  CREATE INDEX message_recipients_acked ON message_recipients (acked_at) WHERE acked_at IS NOT NULL;
  CREATE INDEX messages_sender ON messages (sender);
  CREATE TABLE release_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, token INTEGER NOT NULL, holder TEXT NOT NULL, asker TEXT NOT NULL,
    reason TEXT NOT NULL, state TEXT NOT NULL, answer TEXT, thread TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, answered_at INTEGER
  );
  CREATE INDEX release_requests_pending ON release_requests (key, token) WHERE state = 'pending';
  CREATE INDEX release_requests_answered ON release_requests (answered_at) WHERE state <> 'pending';
  `,
  // 7: shared state (src/engine/kv.ts): a key's revisions are event seqs, and a
  // key bound to a lease (lease_key, lease_token) goes with it.
  `
  CREATE TABLE kv (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL,
    version INTEGER NOT NULL, lease_key TEXT, lease_token INTEGER
  );
  CREATE INDEX kv_lease ON kv (lease_key, lease_token) WHERE lease_key IS NOT NULL;
  `,
  // 8: projects, quotas, approvals and artifacts (issue 34; docs/projects.md). A
  // project is a store of its own (this file is its home project's; others are
  // sibling files), so no table takes a project column: "projects" is the
  // home store's list of them. Quotas are this project's; a task that needs a
  // person's approval waits in status 'awaiting_approval' (the claim query,
  // which reads only 'ready', never sees it); artifacts are what a completion
  // carried, searchable by value (a commit sha) or content hash.
  `
  CREATE TABLE projects (
    name TEXT PRIMARY KEY, home INTEGER NOT NULL, derived_from TEXT, created_at INTEGER NOT NULL, archived_at INTEGER
  );
  CREATE UNIQUE INDEX projects_one_home ON projects (home) WHERE home = 1;
  CREATE TABLE quotas (
    quota TEXT NOT NULL, agent TEXT NOT NULL, limit_value INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (quota, agent)
  );
  CREATE TABLE approval_policies (queue TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
  ALTER TABLE tasks ADD COLUMN approval TEXT;
  ALTER TABLE tasks ADD COLUMN approval_by TEXT;
  ALTER TABLE tasks ADD COLUMN approval_reason TEXT;
  ALTER TABLE tasks ADD COLUMN approval_at INTEGER;
  CREATE INDEX tasks_awaiting_approval ON tasks (queue, id) WHERE status = 'awaiting_approval';
  -- The queued-tasks quota counts the unfinished tasks (QUEUED_TASK_STATES in src/limits.ts) as four index counts:
  -- ready with no pending dependency (tasks_ready), claimed (tasks_claims), awaiting approval (tasks_awaiting_approval),
  -- and the rest (this one). None is written by a task that goes ready, claimed, done: an index of every unfinished
  -- task would be, twice per task, and cost claim + complete a fifth of its speed (measured).
  CREATE INDEX tasks_waiting ON tasks (status) WHERE status = 'blocked' OR (status = 'ready' AND pending_deps > 0);
  CREATE TABLE task_artifacts (
    task_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, hash TEXT, meta TEXT,
    PRIMARY KEY (task_id, seq)
  );
  CREATE INDEX task_artifacts_value ON task_artifacts (value);
  CREATE INDEX task_artifacts_hash ON task_artifacts (hash) WHERE hash IS NOT NULL;
  `,
];
