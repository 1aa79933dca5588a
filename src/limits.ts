// The facts every layer agrees on: enumerations, size limits, ranges and
// defaults. Each is written here once and read by the engine's checks, the
// protocol's schemas, the CLI and the MCP tools, so they cannot drift apart.
// Plain constants, no imports: anything may depend on this file.

// --- enumerations ------------------------------------------------------------

export const LEASE_MODES = ['exclusive', 'shared'] as const;
/** Every state a task can be in, in the order `status` and `task list` show them. */
export const TASK_STATES = ['ready', 'claimed', 'blocked', 'done', 'dead', 'cancelled'] as const;
export const BUDGET_PERIODS = ['none', 'daily', 'monthly'] as const;

// --- key spaces --------------------------------------------------------------

/** Leases on keys with this prefix are path reservations: `path:<glob>` relative to the project root. */
export const PATH_PREFIX = 'path:';
/** The lease `git` commands hold (`baton git`, withGitLock, the daemon's gitCommit). */
export const GIT_LEASE_KEY = 'git';

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

// --- defaults ------------------------------------------------------------------

export const DEFAULT_LEASE_TTL_MS = 60_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 30_000;
export const DEFAULT_SESSION_TTL_MS = 30_000;
export const DEFAULT_QUEUE = 'default';
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_CLAIM_MS = 60_000;
export const DEFAULT_RESERVATION_MS = 10 * 60_000;
export const DEFAULT_WARN_PERCENT = 80;
/** How long an idempotency key remembers its first answer. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
