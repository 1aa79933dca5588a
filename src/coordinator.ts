// The Coordinator interface: the one vocabulary of every tier. The embedded
// engine implements it over a store; the daemon's client (src/client/remote.ts)
// implements the same interface over HTTP. Times are milliseconds since the
// epoch, taken from the store's one clock. The shapes of what goes in and
// comes out are zod schemas (src/schema/), and the types here are theirs, so
// the daemon's checks, its OpenAPI document and this file cannot disagree.
import type { z } from 'zod';
import type * as approvals from './schema/approvals.ts';
import type * as artifacts from './schema/artifacts.ts';
import type * as budgets from './schema/budgets.ts';
import type * as credentials from './schema/credentials.ts';
import type * as events from './schema/events.ts';
import type * as fields from './schema/fields.ts';
import type * as kv from './schema/kv.ts';
import type * as leases from './schema/leases.ts';
import type * as messages from './schema/messages.ts';
import type * as quotas from './schema/quotas.ts';
import type * as limits from './schema/rate-limits.ts';
import type * as release from './schema/release-requests.ts';
import type * as sessions from './schema/sessions.ts';
import type * as tasks from './schema/tasks.ts';

/** A wait that can be given up: an aborted signal ends it with ABORTED. Never sent over the wire. */
interface Abortable {
  signal?: AbortSignal;
}

export type Mutation = z.infer<typeof fields.mutation>;

// leases
export type LeaseMode = z.infer<typeof fields.leaseMode>;
export type Lease = z.infer<typeof leases.lease>;
export type LeaseRef = z.infer<typeof leases.leaseRef>;
export type LeaseWaiter = z.infer<typeof leases.leaseWaiter>;
export type LeaseInfo = z.infer<typeof leases.leaseInfo>;
export type AcquireOptions = z.infer<typeof leases.acquireOptions> & Abortable;
export type RenewOptions = z.infer<typeof leases.renewOptions>;
export type ForceReleaseOptions = z.infer<typeof leases.forceReleaseOptions>;
export type ListLeasesOptions = z.infer<typeof leases.listLeasesOptions>;

// sessions
export type Session = z.infer<typeof sessions.session>;
export type RegisterOptions = z.infer<typeof sessions.registerOptions>;
export type EndSessionOptions = z.infer<typeof sessions.endSessionOptions>;
export type ListSessionsOptions = z.infer<typeof sessions.listSessionsOptions>;

// tasks
export type TaskStatus = z.infer<typeof tasks.taskStatus>;
export type Task = z.infer<typeof tasks.task>;
export type TaskSpec = z.infer<typeof tasks.taskSpec>;
export type TaskPatch = z.infer<typeof tasks.taskPatch>;
export type ReorderTarget = z.infer<typeof tasks.reorderTarget>;
export type Claim = z.infer<typeof tasks.claim>;
export type ClaimRef = z.infer<typeof tasks.claimRef>;
export type ClaimOptions = z.infer<typeof tasks.claimOptions>;
export type ClaimLeaseOptions = z.infer<typeof tasks.claimLeaseOptions>;
export type TaskFilter = z.infer<typeof tasks.taskFilter>;
export type CompleteItem = z.infer<typeof tasks.completeItem>;
export type CompleteOptions = z.infer<typeof tasks.completeOptions>;
export type Artifact = z.infer<typeof artifacts.artifact>;
export type FailOptions = z.infer<typeof tasks.failOptions>;
export type CancelOptions = z.infer<typeof tasks.cancelOptions>;
export type QueueOption = z.infer<typeof tasks.queueOption>;

// approvals (docs/approvals.md)
export type Approval = z.infer<typeof approvals.approval>;
export type ApproveOptions = z.infer<typeof approvals.approveOptions>;
export type RejectOptions = z.infer<typeof approvals.rejectOptions>;
export type ApprovalPolicy = z.infer<typeof approvals.approvalPolicy>;
export type ApprovalPolicySpec = z.infer<typeof approvals.approvalPolicySpec>;

// token budgets
export type BudgetPeriod = z.infer<typeof budgets.budgetPeriod>;
export type BudgetScope = z.infer<typeof budgets.budgetScope>;
export type BudgetSpec = z.infer<typeof budgets.budgetSpec>;
export type BudgetStatus = z.infer<typeof budgets.budgetStatus>;
export type UsageReport = z.infer<typeof budgets.usageReport>;
export type UsageResult = z.infer<typeof budgets.usageResult>;
export type Reservation = z.infer<typeof budgets.reservation>;
export type ReserveOptions = z.infer<typeof budgets.reserveOptions>;
export type ActualUsage = z.infer<typeof budgets.actualUsage>;
export type UsageTotals = z.infer<typeof budgets.usageTotals>;
export type UsageOptions = z.infer<typeof budgets.usageOptions>;

// quotas (docs/quotas.md)
export type QuotaName = z.infer<typeof quotas.quotaName>;
export type SetQuotaOptions = z.infer<typeof quotas.setQuotaOptions>;
export type QuotaRow = z.infer<typeof quotas.quotaRow>;
export type QuotaStatus = z.infer<typeof quotas.quotaStatus>;

// rate limits
export type RateLimitSpec = z.infer<typeof limits.rateLimitSpec>;
export type RateTakeOptions = z.infer<typeof limits.rateTakeOptions> & Abortable;
export type RateTakeResult = z.infer<typeof limits.rateTakeResult>;
export type RateLimitStatus = z.infer<typeof limits.rateLimitStatus>;

// events and maintenance
export type BatonEvent = z.infer<typeof events.batonEvent>;
export type EventQuery = z.infer<typeof events.eventQuery>;
export type PublishOptions = z.infer<typeof events.publishOptions>;
export type SweepResult = z.infer<typeof events.sweepResult>;

/** What withLease tells the work it runs: when, by the holder's own clock, to stop trusting the lease. */
export interface LeaseHold {
  /** Aborts at the holder's deadline (never, for a lease with no TTL). */
  signal: AbortSignal;
  /** performance.now() at which the holder must assume the lease lost (Infinity: no TTL). */
  deadline: number;
}

export interface Subscription {
  close(): void;
}

// messages between agents
export type MessageImportance = z.infer<typeof messages.importance>;
export type MessageKind = z.infer<typeof messages.messageKind>;
export type MessageTarget = z.infer<typeof messages.messageTarget>;
export type SendMessage = z.infer<typeof messages.sendMessage>;
export type SentMessage = z.infer<typeof messages.sentMessage>;
export type InboxOptions = z.infer<typeof messages.inboxOptions>;
export type InboxEntry = z.infer<typeof messages.inboxEntry>;

// release requests
export type ReleaseRequest = z.infer<typeof release.releaseRequest>;
export type ReleaseRequestState = z.infer<typeof release.releaseRequestState>;
export type RequestReleaseOptions = z.infer<typeof release.requestReleaseOptions>;
export type AnswerReleaseOptions = z.infer<typeof release.answerReleaseOptions>;
export type ReleaseRequestFilter = z.infer<typeof release.releaseRequestFilter>;

// shared state (docs/shared-state.md)
export type KvEntry = z.infer<typeof kv.kvEntry>;
export type KvPutOptions = z.infer<typeof kv.kvPutOptions>;
export type KvDeleteOptions = z.infer<typeof kv.kvDeleteOptions>;
export type KvDeleteResult = z.infer<typeof kv.kvDeleteResult>;
export type KvListOptions = z.infer<typeof kv.kvListOptions>;
export type KvListResult = z.infer<typeof kv.kvListResult>;
export type KvChange = z.infer<typeof kv.kvChange>;
export type KvWatchOptions = z.infer<typeof kv.kvWatchOptions>;

// credentials
export type CredentialProvider = z.infer<typeof credentials.providerName>;
export type Credential = z.infer<typeof credentials.credential>;
export type CredentialOptions = Omit<z.infer<typeof credentials.credentialOptions>, 'provider'>;

export interface Coordinator {
  // leases
  acquire(key: string, options: AcquireOptions): Promise<Lease>;
  renew(lease: LeaseRef, options?: RenewOptions): Promise<Lease>;
  release(lease: LeaseRef, options?: Mutation): Promise<void>;
  /** Administrative: ends every hold on the key (or only the one with `token`). Returns how many. */
  forceRelease(key: string, options?: ForceReleaseOptions): Promise<number>;
  /** Refuses with STALE_TOKEN or LEASE_EXPIRED unless the lease is held now. */
  checkLease(lease: LeaseRef): Promise<Lease>;
  getLease(key: string): Promise<LeaseInfo>;
  listLeases(options?: ListLeasesOptions): Promise<Lease[]>;
  /**
   * Runs fn holding the lease and releases it however fn ends. `hold.signal`
   * aborts at the holder's own deadline: its monotonic clock when it asked,
   * plus the TTL, minus a margin (HOLDER_MARGIN_MS). The store's clock (the
   * database's, on PostgreSQL) decides expiry; this deadline never trusts
   * the two clocks to agree.
   */
  withLease<T>(key: string, options: AcquireOptions, fn: (lease: Lease, hold: LeaseHold) => Promise<T>): Promise<T>;

  // agents and sessions
  register(options: RegisterOptions): Promise<Session>;
  heartbeat(sessionId: string): Promise<Session>;
  endSession(sessionId: string, options?: EndSessionOptions): Promise<void>;
  getSession(sessionId: string): Promise<Session>;
  listSessions(options?: ListSessionsOptions): Promise<Session[]>;

  // tasks
  addTask(spec: TaskSpec, options?: Mutation): Promise<Task>;
  addTasks(specs: TaskSpec[], options?: Mutation): Promise<Task[]>;
  getTask(id: number): Promise<Task>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  /** How many tasks are in each state (of one queue, or all). */
  taskCounts(options?: QueueOption): Promise<Record<TaskStatus, number>>;
  updateTask(id: number, version: number, patch: TaskPatch, options?: Mutation): Promise<Task>;
  removeTask(id: number, version: number, options?: Mutation): Promise<void>;
  /** Move a task: a new priority, and/or a place before or after another task of the same priority. */
  reorderTask(id: number, version: number, to: ReorderTarget, options?: Mutation): Promise<Task>;
  /**
   * Up to n ready tasks, in claim order. A task taken from the session before
   * the call returns (the session ended, the task was cancelled) is left out.
   */
  claim(sessionId: string, options?: ClaimOptions): Promise<Claim[]>;
  /** All or nothing: every task is claimed, or none and a CONFLICT names the first that is not claimable. */
  claimByIds(sessionId: string, ids: number[], options?: ClaimLeaseOptions): Promise<Claim[]>;
  renewClaim(claim: ClaimRef, options?: ClaimLeaseOptions): Promise<Claim>;
  releaseClaim(claim: ClaimRef, options?: Mutation): Promise<Task>;
  /** `artifacts` (docs/artifacts.md) are stored with it, in the same transaction. */
  complete(claim: ClaimRef, result?: unknown, options?: CompleteOptions): Promise<Task>;
  /**
   * Completes many claims in one transaction: all or nothing (a stale one
   * refuses the batch). Returns the tasks in the order given, as read right
   * after the commit (one removed in between is left out).
   */
  completeMany(items: CompleteItem[], options?: Mutation): Promise<Task[]>;
  /** Retried with exponential backoff and jitter until maxAttempts, then dead. */
  fail(claim: ClaimRef, error: string, options?: FailOptions): Promise<Task>;
  cancel(id: number, options?: CancelOptions): Promise<Task>;

  // approvals (docs/approvals.md)
  /** An awaiting_approval task becomes ready (or blocked, if a dependency never will be done); anything else is CONFLICT. */
  approveTask(id: number, options: ApproveOptions): Promise<Task>;
  /** An awaiting_approval task becomes rejected, for good, and its dependents blocked; anything else is CONFLICT. */
  rejectTask(id: number, options: RejectOptions): Promise<Task>;
  /** Sets (required) or removes a queue's policy: while set, every task added to the queue needs approval. */
  setApprovalPolicy(spec: ApprovalPolicySpec): Promise<ApprovalPolicy>;
  /** The queues whose tasks need approval. */
  approvalPolicies(): Promise<ApprovalPolicy[]>;

  // token budgets
  setBudget(spec: BudgetSpec): Promise<BudgetStatus>;
  removeBudget(scope: BudgetScope, options?: Mutation): Promise<void>;
  report(usage: UsageReport): Promise<UsageResult>;
  budgetStatus(scope?: BudgetScope): Promise<BudgetStatus[]>;
  usage(options?: UsageOptions): Promise<UsageTotals>;
  reserve(options: ReserveOptions): Promise<Reservation>;
  commitReservation(reservationId: string, actual: ActualUsage, options?: Mutation): Promise<UsageResult>;
  cancelReservation(reservationId: string, options?: Mutation): Promise<void>;
  /** Starts the current period of a budget (or of all budgets) from zero. */
  resetBudget(scope?: BudgetScope, options?: Mutation): Promise<void>;

  // quotas (docs/quotas.md): a request over one is refused whole with QUOTA_EXCEEDED
  /** Sets a quota (project-wide, or one agent's own); limit null removes it. Returns the row as it now is. */
  setQuota(options: SetQuotaOptions): Promise<QuotaRow>;
  /** Every quota with its limits and its use now. */
  listQuotas(): Promise<QuotaStatus[]>;

  // rate limits
  setRateLimit(key: string, spec: RateLimitSpec): Promise<RateLimitStatus>;
  take(key: string, options?: RateTakeOptions): Promise<RateTakeResult>;
  rateLimitStatus(key?: string): Promise<RateLimitStatus[]>;

  // events
  events(query?: EventQuery): Promise<BatonEvent[]>;
  subscribe(handler: (event: BatonEvent) => void, query?: EventQuery): Subscription;
  /** Appends an event of the caller's own to the log (pub/sub between agents). */
  publish(event: PublishOptions): Promise<BatonEvent>;

  // messages between agents (docs/messages.md)
  /** Delivers to an agent, several, every holder of a key (or overlapping path), or every live agent; NOT_FOUND names an unknown recipient. */
  sendMessage(message: SendMessage): Promise<SentMessage>;
  /** An agent's inbox, oldest first; reading it marks nothing. */
  inbox(agent: string, options?: InboxOptions): Promise<InboxEntry[]>;
  /** Marks the messages read and returns them, in the order asked; an id not in the agent's inbox is NOT_FOUND. */
  readMessages(agent: string, ids: number[], options?: Mutation): Promise<InboxEntry[]>;
  /** Marks the messages acknowledged (and read); idempotent. Returns how many were newly acknowledged. */
  ackMessages(agent: string, ids: number[], options?: Mutation): Promise<number>;

  // release requests (docs/messages.md, Release requests)
  /** Asks every current holder of the key (for path:, of an overlapping path) to release it: one request per hold, each told by message; a pending one from the same asker is returned again. */
  requestRelease(key: string, options: RequestReleaseOptions): Promise<ReleaseRequest[]>;
  /** The holder's answer ('released' only once it no longer holds it); the asker is told. */
  answerRelease(id: number, options: AnswerReleaseOptions): Promise<ReleaseRequest>;
  /** Requests, newest first; those whose hold ended or whose time ran out are answered first. */
  releaseRequests(options?: ReleaseRequestFilter): Promise<ReleaseRequest[]>;

  // shared state (docs/shared-state.md): revisions are event seqs, strictly increasing store-wide
  /** The key's entry, or null (absent, or bound to a lease that has ended). */
  kvGet(key: string): Promise<KvEntry | null>;
  /** Sets the key; with expectRevision, only if it is at that revision (0: absent), else CONFLICT naming both revisions. */
  kvPut(key: string, value: unknown, options?: KvPutOptions): Promise<KvEntry>;
  /** Deletes the key (deleted: false if absent); with expectRevision, as kvPut's. */
  kvDelete(key: string, options?: KvDeleteOptions): Promise<KvDeleteResult>;
  /** Live entries in key order, with the store's revision at the read. */
  kvList(options?: KvListOptions): Promise<KvListResult>;
  /** Pushes changes to a key or prefix after fromRevision (default: now); pruned changes end it with a `compacted` change. */
  kvWatch(handler: (change: KvChange) => void, options?: KvWatchOptions): Subscription;

  // credentials
  /**
   * A current credential for a model provider: an API key, or an OAuth access
   * token refreshed first when it is near expiry. However many processes ask
   * at once, one refreshes and the rest adopt its token (docs/auth-gemini.md).
   */
  credential(provider: CredentialProvider, options?: CredentialOptions): Promise<Credential>;

  /** Expires lapsed leases, claims and sessions now (it also runs on its own). */
  sweep(): Promise<SweepResult>;
  close(): Promise<void>;
}
