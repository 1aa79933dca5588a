// The Coordinator interface: the one vocabulary of every tier. The embedded
// engine implements it over a store; the daemon's client (a later issue)
// implements the same interface over HTTP. Times are milliseconds since the
// epoch, taken from the store's one clock.

export type LeaseMode = 'exclusive' | 'shared';

/** A held lease. `token` is its fencing token: it strictly increases per key for the life of the store. */
export interface Lease {
  key: string;
  owner: string;
  mode: LeaseMode;
  token: number;
  acquiredAt: number;
  /** When the lease lapses unless renewed; null when bound to a session only. */
  expiresAt: number | null;
  /** A lease bound to a session ends with it. */
  sessionId: string | null;
}

/** What a caller presents to prove it holds a lease. */
export interface LeaseRef {
  key: string;
  token: number;
}

export interface LeaseWaiter {
  key: string;
  owner: string;
  mode: LeaseMode;
  since: number;
}

export interface LeaseInfo {
  key: string;
  holders: Lease[];
  waiters: LeaseWaiter[];
}

export interface Mutation {
  /** The same key with the same request within 10 minutes returns the first result without acting twice. */
  idempotencyKey?: string;
}

export interface AcquireOptions extends Mutation {
  owner: string;
  mode?: LeaseMode;
  /** Lease lifetime; it lapses unless renewed. Default 60 s; 0 means no expiry (only with a session). */
  ttlMs?: number;
  /** How long to wait for a conflicting holder. 0: fail at once with LOCKED. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bind the lease to a session: it is released when the session ends. */
  sessionId?: string;
}

export interface Session {
  id: string;
  name: string;
  kind: string;
  host: string;
  pid: number | null;
  labels: Record<string, string>;
  startedAt: number;
  heartbeatAt: number;
  /** The session ends if no heartbeat comes for this long. */
  ttlMs: number;
  endedAt: number | null;
  endReason: string | null;
}

export interface RegisterOptions extends Mutation {
  name: string;
  kind?: string;
  /** Defaults to this machine's hostname. */
  host?: string;
  /** Defaults to this process. On the same host a dead process ends the session at once. */
  pid?: number | null;
  labels?: Record<string, string>;
  /** Heartbeat deadline. Default 30 s. */
  ttlMs?: number;
  /** Heartbeat from this process every ttlMs / 3 until the session ends. Default true. */
  autoHeartbeat?: boolean;
}

export type TaskStatus = 'ready' | 'claimed' | 'done' | 'dead' | 'cancelled' | 'blocked';

export interface Task {
  id: number;
  queue: string;
  title: string;
  payload: unknown;
  priority: number;
  position: number;
  status: TaskStatus;
  /** Not claimable before this time. */
  runAt: number;
  attempts: number;
  maxAttempts: number;
  dependsOn: number[];
  /** Why a task is blocked, or the last failure. */
  reason: string | null;
  result: unknown;
  lastError: string | null;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface TaskSpec {
  queue?: string;
  title: string;
  payload?: unknown;
  priority?: number;
  dependsOn?: number[];
  maxAttempts?: number;
  runAt?: number;
}

export interface TaskPatch {
  title?: string;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  runAt?: number;
}

/** A claimed task and the token every later call about it presents. */
export interface Claim {
  taskId: number;
  task: Task;
  token: number;
  expiresAt: number;
}

export interface ClaimRef {
  taskId: number;
  token: number;
}

export interface ClaimOptions extends Mutation {
  queue?: string;
  n?: number;
  /** Claim lifetime; renew before it lapses. Default 60 s. */
  leaseMs?: number;
}

export interface TaskFilter {
  queue?: string;
  status?: TaskStatus | TaskStatus[];
  limit?: number;
}

export type BudgetPeriod = 'none' | 'daily' | 'monthly';

/** A budget applies to all usage (no agent, no model), one agent, one model, or one agent's use of one model. */
export interface BudgetScope {
  agent?: string;
  model?: string;
}

export interface BudgetSpec extends BudgetScope, Mutation {
  limit: number;
  period?: BudgetPeriod;
  /** Percent of the limit at which one warning event is emitted per period. Default 80. */
  warnPercent?: number;
}

export interface BudgetStatus {
  scope: string;
  agent: string | null;
  model: string | null;
  period: BudgetPeriod;
  periodStart: number;
  limit: number;
  used: number;
  reserved: number;
  remaining: number;
  warning: boolean;
  exceeded: boolean;
}

export interface UsageReport extends Mutation {
  agent: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/** The result of a report: the tightest budget that applies, and all of them. */
export interface UsageResult {
  /** null when no budget applies. */
  status: BudgetStatus | null;
  budgets: BudgetStatus[];
}

export interface Reservation {
  id: string;
  agent: string;
  model: string | null;
  estimate: number;
  expiresAt: number;
}

export interface ReserveOptions extends Mutation {
  agent: string;
  model?: string;
  estimate: number;
  /** A reservation not committed or cancelled in time stops counting. Default 10 min. */
  ttlMs?: number;
}

export interface UsageTotals {
  byAgent: Array<{ agent: string; promptTokens: number; completionTokens: number; total: number }>;
  byModel: Array<{ model: string; promptTokens: number; completionTokens: number; total: number }>;
}

export interface RateLimitSpec extends Mutation {
  /** Tokens per second. */
  rate: number;
  /** Bucket size: the most that can be taken at once after a quiet spell. */
  burst: number;
}

export interface RateTakeOptions extends Mutation {
  cost?: number;
  /** Wait in line until granted (served in arrival order). Default false. */
  wait?: boolean;
  /** The longest wait accepted; a longer one is refused with retryAfterMs. Default: unbounded. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Create or change the limit as part of this call. */
  rate?: number;
  burst?: number;
}

export type RateTakeResult = { granted: true; waitedMs: number } | { granted: false; retryAfterMs: number };

export interface RateLimitStatus {
  key: string;
  rate: number;
  burst: number;
  /** Tokens in the bucket now; negative while callers wait in line. */
  available: number;
}

export interface BatonEvent {
  seq: number;
  at: number;
  type: string;
  key: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

export interface EventQuery {
  /** Events with seq greater than this. Default 0. */
  after?: number;
  limit?: number;
  /** Type prefixes, e.g. ['task.', 'lease.acquired']. */
  types?: string[];
}

export interface PublishOptions extends Mutation {
  /** A dotted type, e.g. 'build.finished'; subscribers filter by prefix. */
  type: string;
  key?: string | null;
  actor?: string | null;
  data?: Record<string, unknown>;
}

export interface Subscription {
  close(): void;
}

export interface SweepResult {
  leasesExpired: number;
  claimsExpired: number;
  sessionsEnded: number;
  eventsPruned: number;
}

export interface Coordinator {
  // leases
  acquire(key: string, options: AcquireOptions): Promise<Lease>;
  renew(lease: LeaseRef, options?: Mutation & { ttlMs?: number }): Promise<Lease>;
  release(lease: LeaseRef, options?: Mutation): Promise<void>;
  /** Administrative: ends every hold on the key (or only the one with `token`). Returns how many. */
  forceRelease(key: string, options?: Mutation & { token?: number; reason?: string }): Promise<number>;
  /** Refuses with STALE_TOKEN or LEASE_EXPIRED unless the lease is held now. */
  checkLease(lease: LeaseRef): Promise<Lease>;
  getLease(key: string): Promise<LeaseInfo>;
  listLeases(options?: { prefix?: string }): Promise<Lease[]>;
  withLease<T>(key: string, options: AcquireOptions, fn: (lease: Lease) => Promise<T>): Promise<T>;

  // agents and sessions
  register(options: RegisterOptions): Promise<Session>;
  heartbeat(sessionId: string): Promise<Session>;
  endSession(sessionId: string, options?: Mutation & { reason?: string }): Promise<void>;
  getSession(sessionId: string): Promise<Session>;
  listSessions(options?: { includeEnded?: boolean }): Promise<Session[]>;

  // tasks
  addTask(spec: TaskSpec, options?: Mutation): Promise<Task>;
  addTasks(specs: TaskSpec[], options?: Mutation): Promise<Task[]>;
  getTask(id: number): Promise<Task>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  /** How many tasks are in each state (of one queue, or all). */
  taskCounts(options?: { queue?: string }): Promise<Record<TaskStatus, number>>;
  updateTask(id: number, version: number, patch: TaskPatch, options?: Mutation): Promise<Task>;
  removeTask(id: number, version: number, options?: Mutation): Promise<void>;
  /** Move a task: a new priority, and/or a place before or after another task of the same priority. */
  reorderTask(id: number, version: number, to: { priority?: number; before?: number; after?: number }, options?: Mutation): Promise<Task>;
  /**
   * Up to n ready tasks, in claim order. A task taken from the session before
   * the call returns (the session ended, the task was cancelled) is left out.
   */
  claim(sessionId: string, options?: ClaimOptions): Promise<Claim[]>;
  /** All or nothing: every task is claimed, or none and a CONFLICT names the first that is not claimable. */
  claimByIds(sessionId: string, ids: number[], options?: Mutation & { leaseMs?: number }): Promise<Claim[]>;
  renewClaim(claim: ClaimRef, options?: Mutation & { leaseMs?: number }): Promise<Claim>;
  releaseClaim(claim: ClaimRef, options?: Mutation): Promise<Task>;
  complete(claim: ClaimRef, result?: unknown, options?: Mutation): Promise<Task>;
  /**
   * Completes many claims in one transaction: all or nothing (a stale one
   * refuses the batch). Returns the tasks in the order given, as read right
   * after the commit (one removed in between is left out).
   */
  completeMany(items: Array<ClaimRef & { result?: unknown }>, options?: Mutation): Promise<Task[]>;
  /** Retried with exponential backoff and jitter until maxAttempts, then dead. */
  fail(claim: ClaimRef, error: string, options?: Mutation & { retryInMs?: number }): Promise<Task>;
  cancel(id: number, options?: Mutation & { version?: number; reason?: string }): Promise<Task>;

  // token budgets
  setBudget(spec: BudgetSpec): Promise<BudgetStatus>;
  removeBudget(scope: BudgetScope, options?: Mutation): Promise<void>;
  report(usage: UsageReport): Promise<UsageResult>;
  budgetStatus(scope?: BudgetScope): Promise<BudgetStatus[]>;
  usage(options?: { since?: number }): Promise<UsageTotals>;
  reserve(options: ReserveOptions): Promise<Reservation>;
  commitReservation(reservationId: string, actual: { promptTokens: number; completionTokens: number }, options?: Mutation): Promise<UsageResult>;
  cancelReservation(reservationId: string, options?: Mutation): Promise<void>;
  /** Starts the current period of a budget (or of all budgets) from zero. */
  resetBudget(scope?: BudgetScope, options?: Mutation): Promise<void>;

  // rate limits
  setRateLimit(key: string, spec: RateLimitSpec): Promise<RateLimitStatus>;
  take(key: string, options?: RateTakeOptions): Promise<RateTakeResult>;
  rateLimitStatus(key?: string): Promise<RateLimitStatus[]>;

  // events
  events(query?: EventQuery): Promise<BatonEvent[]>;
  subscribe(handler: (event: BatonEvent) => void, query?: EventQuery): Subscription;
  /** Appends an event of the caller's own to the log (pub/sub between agents). */
  publish(event: PublishOptions): Promise<BatonEvent>;

  /** Expires lapsed leases, claims and sessions now (it also runs on its own). */
  sweep(): Promise<SweepResult>;
  close(): Promise<void>;
}
