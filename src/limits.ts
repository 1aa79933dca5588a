// The facts every layer agrees on: enumerations, size limits, ranges and
// defaults. Each is written here once and read by the engine's checks, the
// protocol's schemas, the CLI and the MCP tools, so they cannot drift apart.
// Plain constants, no imports: anything may depend on this file.

// --- enumerations ------------------------------------------------------------

export const LEASE_MODES = ['exclusive', 'shared'] as const;
/** Every state a task can be in, in the order `status` and `task list` show them. awaiting_approval: a person must approve it first (docs/approvals.md); rejected: they did not. */
export const TASK_STATES = ['ready', 'claimed', 'blocked', 'awaiting_approval', 'done', 'dead', 'cancelled', 'rejected'] as const;
export const BUDGET_PERIODS = ['none', 'daily', 'monthly'] as const;
/**
 * What an API token may do (`baton auth token create --scope`): `full`
 * everything; `read` every read; `tasks` the queue and sessions; `files`
 * leases, files, git and sessions; `credentials` a model provider's current
 * credential; `approver` approve or reject tasks and set approval policies.
 * src/protocol/token-scopes.ts maps each operation to the scopes that grant it.
 */
export const TOKEN_SCOPES = ['full', 'read', 'tasks', 'files', 'credentials', 'approver'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

// --- projects ----------------------------------------------------------------

/**
 * A project's name (docs/projects.md): lowercase letters, digits and dashes,
 * at most 40, so a PostgreSQL schema named after it (baton_p_<name>, dashes
 * as underscores) stays within the 63-character identifier limit.
 */
export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** PROJECT_NAME_PATTERN in words, for messages and help. */
export const PROJECT_NAME_RULE = '1 to 40 lowercase letters, digits and dashes, starting with a letter or digit';
/** The header (and, for GET streams, the query parameter `project`) that names a request's project. */
export const PROJECT_HEADER = 'x-baton-project';
/** The project a store is given when no repository names one (no remote, no folder name fits). */
export const FALLBACK_PROJECT = 'default';

// --- key spaces --------------------------------------------------------------

/** Leases on keys with this prefix are path reservations: `path:<glob>` relative to the project root. */
export const PATH_PREFIX = 'path:';
/** The lease `git` commands hold (`baton git`, withGitLock, the daemon's gitCommit). */
export const GIT_LEASE_KEY = 'git';
/** An election's lease and its shared-state key: `election:<name>` (src/election.ts). */
export const ELECTION_PREFIX = 'election:';
/** `baton elect`'s lease TTL by default: a leader that dies is replaced within it (plus a sweep). */
export const DEFAULT_ELECTION_TTL_MS = 10_000;
/** `baton elect`: the most time a command gets between SIGTERM and SIGKILL when the leadership ends (less for a short TTL: ttl/6). */
export const ELECTION_STOP_GRACE_MS = 5_000;
/** The sender of baton's own messages (release answers, reservation violations). */
export const BATON_SENDER = 'baton';

// --- sizes of strings (characters) ---------------------------------------------

/** A path in the project (files, globs) and a worktree's directory. */
export const MAX_PATH_LENGTH = 4096;
/** A lease or rate-limit key: long enough for `path:` and any path a reservation may name. */
export const MAX_KEY_LENGTH = PATH_PREFIX.length + MAX_PATH_LENGTH;
/** Names: owners, agents, models, queues, session kinds, hosts, actors, event types. */
export const MAX_NAME_LENGTH = 256;
/** Ids the store makes (sessions, reservations). */
export const MAX_ID_LENGTH = 64;
/** Why something was ended, cancelled or forced. */
export const MAX_REASON_LENGTH = 1024;
export const MAX_TITLE_LENGTH = 4096;
/** A task's failure text and a commit message. */
export const MAX_TEXT_LENGTH = 65_536;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
/** An incoming X-Request-ID longer than this (or with other than [A-Za-z0-9._:-]) is replaced by one of the daemon's own. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** Claims whose claim time the daemon remembers at most, for the claim-to-complete histogram (the oldest are forgotten first). */
export const MAX_TRACKED_CLAIMS = 100_000;
/** How long the daemon's /metrics reuses what it last read from the store (a scrape storm costs the store one read a second). */
export const METRICS_STATE_CACHE_MS = 1_000;
/** Access-log lines wait at most this long, or until this many are pending, to reach the log together (one write, not one per request). */
export const ACCESS_LOG_FLUSH_MS = 50;
export const ACCESS_LOG_BATCH = 256;

// --- ranges --------------------------------------------------------------------

/** Task priorities run from -MAX_PRIORITY to MAX_PRIORITY; higher is claimed first. */
export const MAX_PRIORITY = 1_000_000;
export const MAX_TASK_ATTEMPTS = 1000;
/** Tasks added, or claimed, in one call at most. */
export const MAX_BATCH = 10_000;
/** Rows one list call returns at most (tasks, events). */
export const MAX_LIST_LIMIT = 100_000;
export const DEFAULT_LIST_LIMIT = 1000;
/** A session's heartbeat deadline is at least this long. */
export const MIN_SESSION_TTL_MS = 100;
/** An event type: dotted words, subscribers filter by prefix. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

// --- numbers a caller sends ------------------------------------------------------
// Every number is bounded so that what the store computes from it (an expiry
// is now + a duration, usage is a sum) stays a safe integer (below 2^53): the
// store must be able to read back every row it holds. The planned PostgreSQL
// store keeps these columns as BIGINT, which holds them all.

/** The longest wait: what a timer can count (2^31-1 ms, about 24.8 days). acquire's and take's timeoutMs. */
export const MAX_WAIT_MS = 2_147_483_647;
/** The longest lifetime or delay from now: a lease's TTL, a claim, a reservation, a session's heartbeat deadline, a retry. One year: a TTL of centuries is not a lease. */
export const MAX_TTL_MS = 365 * 24 * 3600_000;
/** The latest time a caller may name (runAt, since): the last millisecond of the year 9999, UTC. */
export const MAX_TIME_MS = 253_402_300_799_999;
/** A process id: pid_t is a 32-bit signed integer everywhere (Linux stops at 2^22). */
export const MAX_PID = 2_147_483_647;
/** Tokens in one count: a report's or a commit's prompt or completion tokens, a reservation's estimate. */
export const MAX_TOKENS = 1_000_000_000_000;
/**
 * The most tokens the store adds up: all usage ever reported together, a
 * budget's limit, all live reservations together. Twice it is still below
 * 2^53, so used + reserved and limit - used - reserved are exact.
 */
export const MAX_TOKEN_TOTAL = 1_000_000_000_000_000;
/** A rate limit's rate (tokens per second), from one token in about 11.6 days to a billion a second. */
export const MIN_RATE = 0.000_001;
export const MAX_RATE = 1_000_000_000;
/** A rate limit's bucket size, and so the most one take may cost. */
export const MAX_BURST = 1_000_000_000_000;
/** How deep a JSON value (a payload, a result, an event's data) may nest: `{}` is 1, `{"a":[]}` is 2. */
export const MAX_JSON_DEPTH = 64;

// --- defaults ------------------------------------------------------------------

export const DEFAULT_LEASE_TTL_MS = 60_000;
/** A holder stops trusting its lease this long (at most a tenth of the TTL) before the TTL runs out by its own clock. */
export const HOLDER_MARGIN_MS = 1_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 30_000;
export const DEFAULT_SESSION_TTL_MS = 30_000;
export const DEFAULT_QUEUE = 'default';
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_CLAIM_MS = 60_000;
export const DEFAULT_RESERVATION_MS = 10 * 60_000;
export const DEFAULT_WARN_PERCENT = 80;
/** How long an idempotency key remembers its first answer. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
/** How long a key replaced by `baton auth rotate-key` still verifies signatures (its --overlap): a day to hand the new key to clients that hold a copy. */
export const DEFAULT_KEY_OVERLAP_MS = 24 * 3600_000;

// The daemon's own limits (`baton serve` flags, baton.toml's [daemon]): defaults and floors.
export const DEFAULT_MAX_QUEUE = 4096;
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
/** A smaller body limit would refuse ordinary requests. */
export const MIN_MAX_BODY_BYTES = 1024;
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_NODE_TTL_MS = 5_000;
/** A node TTL shorter than this would end sessions between two heartbeats of a busy daemon. */
export const MIN_NODE_TTL_MS = 300;

/** request_approval (MCP) waits for a decision at most this long (seconds); MCP clients often give up on a call after 60 s, so wait in turns (approval_status). */
export const MAX_APPROVAL_WAIT_SECONDS = 600;

/** The model providers whose logins baton keeps and refreshes (`baton auth login <provider>`). */
export const CREDENTIAL_PROVIDERS = ['gemini'] as const;
/** The longest a caller may ask a provider's token to stay valid (credential's minValidityMs): an hour, an access token's usual lifetime. */
export const MAX_MIN_VALIDITY_MS = 3_600_000;

// --- webhooks (docs/webhooks.md) -------------------------------------------------

/** A webhook's URL at most, in characters: what browsers and proxies reliably carry. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Event prefixes one endpoint filters by, at most. */
export const MAX_WEBHOOK_EVENTS = 64;
/** Waits before each retry of a failed delivery (Standard Webhooks' schedule; each jittered by up to 20%); after the last, it is given up. */
export const WEBHOOK_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** An endpoint that has failed every delivery for this long is disabled (five days). */
export const DEFAULT_WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 3600_000;
/** How long a rotated-out webhook secret still signs beside the new one. */
export const DEFAULT_WEBHOOK_SECRET_OVERLAP_MS = 24 * 3600_000;
/** One delivery, connect to answer, at most. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Deliveries in flight at once, per daemon. */
export const WEBHOOK_CONCURRENCY = 8;

// --- messages between agents (docs/messages.md) ----------------------------------

/** How important a message is; the MCP tools' next-call note counts the unread 'high' and 'urgent' ones. */
export const MESSAGE_IMPORTANCES = ['low', 'normal', 'high', 'urgent'] as const;
/** What a message is: an agent's own, or one baton writes for a release request, its answer, or a reservation violation. */
export const MESSAGE_KINDS = ['message', 'release-request', 'release-answer', 'violation'] as const;
/** A message's subject at most, in characters. */
export const MAX_MESSAGE_SUBJECT_LENGTH = 1024;
/** A message's body at most, in characters (16 KiB): a note between agents, not a file transfer. */
export const MAX_MESSAGE_BODY_LENGTH = 16_384;
/** Recipients of one message at most, after `all` or `holdersOf` is resolved. */
export const MAX_MESSAGE_RECIPIENTS = 256;
/** Inbox entries per page by default, and at most; also the most ids one read or ack names. */
export const DEFAULT_INBOX_LIMIT = 50;
export const MAX_INBOX_LIMIT = 500;
/** The MCP inbox tool's page, by default and at most: it goes into an agent's context (bodies up to 16 KiB each). */
export const DEFAULT_MCP_INBOX_LIMIT = 20;
export const MAX_MCP_INBOX_LIMIT = 50;
/** Notable messages (`inbox({ notable })`, what the MCP tools' next-call note counts): of these importances, or of these kinds. */
export const NOTABLE_MESSAGE_IMPORTANCES = ['high', 'urgent'] as const;
export const NOTABLE_MESSAGE_KINDS = ['release-request', 'release-answer'] as const;

// --- release requests (docs/messages.md, Release requests) -------------------------

/** A request to release a lease: waiting for its holder, then answered one of the three ways. */
export const RELEASE_REQUEST_STATES = ['pending', 'released', 'declined', 'lapsed'] as const;
/** What a holder may answer; 'released' is also recorded by itself once the hold ends. */
export const RELEASE_ANSWERS = ['declined', 'released'] as const;
/** A request unanswered this long lapses (and its asker is told); a caller may ask for up to a day. */
export const DEFAULT_RELEASE_REQUEST_TTL_MS = 10 * 60_000;
export const MAX_RELEASE_REQUEST_TTL_MS = 24 * 3600_000;
/** Answered requests are kept this long (a week) for `release-request list`, then swept away. */
export const RELEASE_REQUEST_RETENTION_MS = 7 * 24 * 3600_000;

// --- reservation violations (docs/violations.md) ---------------------------------

/** Paths reported as `reservation.violated` per lease hold at most (a build writing under `path:**` is not 100,000 events). */
export const MAX_VIOLATION_EVENTS_PER_LEASE = 100;
/** Of those, the first this many also go to the holder's inbox; the last one says the rest are events only. */
export const MAX_VIOLATION_MESSAGES_PER_LEASE = 5;
/** `baton status` looks for violations among this many newest events, not the whole log (an event's data may be 64 KiB). */
export const STATUS_VIOLATION_SCAN_EVENTS = 1_000;

// --- shared state (docs/shared-state.md) -------------------------------------------

/** A shared-state value's JSON text at most, in UTF-8 bytes (64 KiB): state to coordinate by, not a blob store. */
export const MAX_KV_VALUE_BYTES = 65_536;
/** Entries one kvList returns at most (values may each be 64 KiB); page on with `after`. */
export const MAX_KV_LIST_LIMIT = 10_000;
/** A kvList page ends once its values reach this many bytes (1 MiB; the first entry always comes): `more` says to page on. */
export const MAX_KV_LIST_BYTES = 1_048_576;
/** The MCP kv_list page, by default and at most: it goes into an agent's context (MAX_KV_LIST_BYTES bounds it too). */
export const DEFAULT_MCP_KV_LIST_LIMIT = 100;
export const MAX_MCP_KV_LIST_LIMIT = 1000;
/** Leased keys whose lease ended that one sweep deletes at most (the rest: the next sweep). */
export const KV_SWEEP_BATCH = 1_000;

// --- quotas (docs/quotas.md) ----------------------------------------------------------

/** The quotas a project may set: concurrent claims of one agent, leases one session holds, tasks the queue holds. */
export const QUOTA_NAMES = ['claims-per-agent', 'leases-per-session', 'queued-tasks'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
/** The task states queued-tasks counts: every task not yet finished, claimed or not (so only adding one can raise the count). */
export const QUEUED_TASK_STATES = ['ready', 'claimed', 'blocked', 'awaiting_approval'] as const;
/** A quota's limit at most. */
export const MAX_QUOTA_LIMIT = 1_000_000_000;
/** How long a process trusts its cached copy of the quota rows: another process's new quota applies here within this. */
export const QUOTA_CACHE_MS = 1_000;
/** listQuotas shows the use of this many agents (or sessions) at most, the highest first. */
export const QUOTA_USAGE_TOP = 20;

// --- task artifacts (docs/artifacts.md) ----------------------------------------------

/** Artifacts one task's completion carries at most: what it made, not a file listing. */
export const MAX_TASK_ARTIFACTS = 32;
/** A json artifact's text at most, in UTF-8 bytes (16 KiB): a small summary, not a result store. */
export const MAX_ARTIFACT_JSON_BYTES = 16_384;
/** A url artifact at most, in characters (as a webhook's: what browsers and proxies reliably carry). */
export const MAX_ARTIFACT_URL_LENGTH = 2048;
/** A hex prefix this long at least finds a commit or a hash by its start, as git abbreviates (shorter: only an exact value). */
export const MIN_ARTIFACT_PREFIX = 7;
/** The newest matching events `baton audit` prints unless --limit says otherwise. */
export const DEFAULT_AUDIT_LIMIT = 100;
