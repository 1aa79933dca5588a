// The Coordinator over the daemon's HTTP API: the same interface as the
// embedded engine, so user code does not change when a daemon runs. Mutations
// carry an idempotency key (generated when the caller gives none), so a retry
// after a dropped connection acts once. Sessions registered here are bound to
// this client's connection: if the process dies, the daemon ends them at once.
import { DASHBOARD_LINK_PATH, DASHBOARD_SIGN_OUT_PATH, type DashboardLink } from '../protocol/dashboard-link.ts';
import { hostname } from 'node:os';
import type {
  AcquireOptions, BatonEvent, BudgetScope, BudgetSpec, BudgetStatus, Claim, ClaimOptions, ClaimRef, Coordinator, EventQuery, Lease, LeaseInfo,
  LeaseHold, LeaseRef, Mutation, PublishOptions, RateLimitSpec, RateLimitStatus, RateTakeOptions, RateTakeResult, RegisterOptions, Reservation, ReserveOptions,
  Credential, CredentialOptions, CredentialProvider, Session, Subscription, SweepResult, Task, TaskFilter, TaskPatch, TaskSpec, TaskStatus, UsageReport, UsageResult, UsageTotals,
} from '../coordinator.ts';
import type { AnswerReleaseOptions, ReleaseRequest, ReleaseRequestFilter, RequestReleaseOptions } from '../coordinator.ts';
import type { InboxEntry, InboxOptions, SendMessage, SentMessage } from '../coordinator.ts';
import type { ApprovalPolicy, ApprovalPolicySpec, ApproveOptions, RejectOptions } from '../coordinator.ts';
import type { CompleteItem, CompleteOptions } from '../coordinator.ts';
import type { QuotaRow, QuotaStatus, SetQuotaOptions } from '../coordinator.ts';
import type { KvChange, KvDeleteOptions, KvDeleteResult, KvEntry, KvListOptions, KvListResult, KvPutOptions, KvWatchOptions } from '../coordinator.ts';
import { environmentCredential } from '../credentials/api-key.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { checkEventQuery } from '../engine/events.ts';
import { watchKv } from '../kv-watch.ts';
import { runWithLease } from '../lease-scope.ts';
import type { DaemonOperations, FileResult } from '../protocol/daemon-operations.ts';
import { operations, type Args, type OperationName, type Result } from '../protocol/operations.ts';
import type { ProjectStatus } from '../project/status.ts';
import { openStream, type StreamHandle } from './event-stream.ts';
import type { Endpoint } from './endpoint.ts';
import { newIdempotencyKey } from './idempotency-key.ts';
import type { TransportHooks } from './daemon-wait.ts';
import { LIVENESS_OPERATIONS } from './bulkhead.ts';
import type { ResilienceOptions } from './resilience.ts';
import { traced } from './trace-context.ts';
import { HttpTransport } from './transport.ts';

/** `breaker` and `bulkhead` (ResilienceOptions) fail fast and isolate load: docs/daemon.md, "Client resilience". */
export interface RemoteOptions extends Endpoint, TransportHooks, ResilienceOptions {
  /** Time for the daemon to answer one request (waits add their own timeout). Default 30 s. */
  requestTimeoutMs?: number;
  /** How long to keep retrying a request the daemon could not take (down, restarting, 429). Default 10 s. */
  retryForMs?: number;
  /**
   * The worktree file and git operations act in (the absolute path of its top
   * level; a worktree of the daemon's repository). Default: the daemon's own.
   * openCoordinator's discovery sets it to the caller's worktree.
   */
  worktree?: string;
}

/** Only the reference travels; without one the daemon says who holds the path. */
function leaseField(lease: LeaseRef | undefined): { lease?: LeaseRef } {
  return lease === undefined ? {} : { lease: { key: lease.key, token: lease.token } };
}

interface Bound {
  stream: StreamHandle;
  timer: NodeJS.Timeout | undefined;
}

export class RemoteCoordinator implements Coordinator {
  #transport: HttpTransport;
  #requestTimeoutMs: number;
  #retryForMs: number;
  #worktree: { worktree?: string };
  #sessions = new Map<string, Bound>();
  #streams = new Set<StreamHandle>();
  #closed = false;
  /** Aborts requests still retrying when the client closes. */
  #closing = new AbortController();

  constructor(options: RemoteOptions) {
    this.#transport = new HttpTransport(options);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#retryForMs = options.retryForMs ?? 10_000;
    this.#worktree = options.worktree === undefined ? {} : { worktree: options.worktree };
  }

  /** The worktree file and git operations act in; undefined: the daemon's own. */
  get worktree(): string | undefined {
    return this.#worktree.worktree;
  }

  get url(): string {
    return this.#transport.describe();
  }

  async #call<K extends OperationName>(name: K, args: Args<K>, signal?: AbortSignal): Promise<Result<K>> {
    if (this.#closed) throw new BatonError('UNAVAILABLE', 'this client is closed');
    const operation = operations[name];
    const { idempotencyKey, ...body }: Record<string, unknown> = operation.toBody(...args);
    const headers: Record<string, string> = {};
    if (operation.mutation) headers['idempotency-key'] = typeof idempotencyKey === 'string' ? idempotencyKey : newIdempotencyKey();
    else if (idempotencyKey !== undefined) Object.assign(body, { idempotencyKey });
    const wait = operation.waitMs?.(...args) ?? 0;
    // With a tracer provider registered: a CLIENT span, whose traceparent the daemon's span continues.
    return (await traced(name, body, headers, () => this.#transport.request(`/v1/${name}`, {
      body,
      headers,
      // A wait longer than a timer can count (about 24 days) has no deadline of our own.
      ...(this.#requestTimeoutMs + wait < 2 ** 31 - 1 ? { timeoutMs: this.#requestTimeoutMs + wait } : {}),
      signal: signal === undefined ? this.#closing.signal : AbortSignal.any([signal, this.#closing.signal]),
      retryForMs: this.#retryForMs,
      // Every call here is safe to send twice: a read, or a mutation with its idempotency key.
      idempotent: !operation.mutation || headers['idempotency-key'] !== undefined,
      lane: LIVENESS_OPERATIONS.has(name) ? 'liveness' : 'general',
    }))) as Result<K>;
  }

  // --- leases ---
  acquire(key: string, options: AcquireOptions): Promise<Lease> {
    return this.#call('acquire', [key, options], options?.signal);
  }
  renew(lease: LeaseRef, options?: Mutation & { ttlMs?: number }): Promise<Lease> {
    return this.#call('renew', [lease, options]);
  }
  async release(lease: LeaseRef, options?: Mutation): Promise<void> {
    await this.#call('release', [lease, options]);
  }
  forceRelease(key: string, options?: Mutation & { token?: number; reason?: string }): Promise<number> {
    return this.#call('forceRelease', [key, options]);
  }
  checkLease(lease: LeaseRef): Promise<Lease> {
    return this.#call('checkLease', [lease]);
  }
  getLease(key: string): Promise<LeaseInfo> {
    return this.#call('getLease', [key]);
  }
  listLeases(options?: { prefix?: string }): Promise<Lease[]> {
    return this.#call('listLeases', [options]);
  }
  withLease<T>(key: string, options: AcquireOptions, fn: (lease: Lease, hold: LeaseHold) => Promise<T>): Promise<T> {
    return runWithLease(this, key, options, fn);
  }

  // --- sessions ---
  async register(options: RegisterOptions): Promise<Session> {
    const session = await this.#call('register', [{ host: hostname(), pid: process.pid, ...options, autoHeartbeat: undefined }]);
    if (options?.autoHeartbeat !== false) await this.#bind(session);
    return session;
  }

  /**
   * Keeps a stream open for the session (the daemon ends it when the stream
   * drops) and heartbeats it. Resolves once the stream is attached, so a
   * process that dies right after register still takes its session with it.
   */
  async #bind(session: Session): Promise<void> {
    let attached!: () => void;
    const ready = new Promise<void>((resolve) => (attached = resolve));
    const stream = openStream(this.#transport, `/v1/sessions/${encodeURIComponent(session.id)}/attach`, {
      onMessage: () => attached(),
      onRefused: () => {
        attached();
        this.#unbind(session.id);
      },
    });
    const timer = setInterval(() => {
      this.heartbeat(session.id).catch((error: unknown) => {
        if (isBatonError(error, 'SESSION_ENDED') || isBatonError(error, 'NOT_FOUND')) this.#unbind(session.id);
      });
    }, Math.max(50, Math.floor(session.ttlMs / 3)));
    timer.unref();
    this.#sessions.set(session.id, { stream, timer });
    let giveUp: NodeJS.Timeout | undefined;
    // Heartbeats keep the session if the stream cannot attach (the daemon's TTL then applies).
    await Promise.race([ready, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, this.#requestTimeoutMs)))]);
    clearTimeout(giveUp);
  }

  #unbind(sessionId: string): void {
    const bound = this.#sessions.get(sessionId);
    if (bound === undefined) return;
    clearInterval(bound.timer);
    bound.stream.close();
    this.#sessions.delete(sessionId);
  }

  heartbeat(sessionId: string): Promise<Session> {
    return this.#call('heartbeat', [sessionId]);
  }
  async endSession(sessionId: string, options?: Mutation & { reason?: string }): Promise<void> {
    const bound = this.#sessions.get(sessionId);
    if (bound !== undefined) clearInterval(bound.timer);
    try {
      await this.#call('endSession', [sessionId, options]);
    } finally {
      this.#unbind(sessionId);
    }
  }
  getSession(sessionId: string): Promise<Session> {
    return this.#call('getSession', [sessionId]);
  }
  listSessions(options?: { includeEnded?: boolean }): Promise<Session[]> {
    return this.#call('listSessions', [options]);
  }

  // --- tasks ---
  addTask(spec: TaskSpec, options?: Mutation): Promise<Task> {
    return this.#call('addTask', [spec, options]);
  }
  addTasks(specs: TaskSpec[], options?: Mutation): Promise<Task[]> {
    return this.#call('addTasks', [specs, options]);
  }
  getTask(id: number): Promise<Task> {
    return this.#call('getTask', [id]);
  }
  listTasks(filter?: TaskFilter): Promise<Task[]> {
    return this.#call('listTasks', [filter]);
  }
  taskCounts(options?: { queue?: string }): Promise<Record<TaskStatus, number>> {
    return this.#call('taskCounts', [options]);
  }
  updateTask(id: number, version: number, patch: TaskPatch, options?: Mutation): Promise<Task> {
    return this.#call('updateTask', [id, version, patch, options]);
  }
  async removeTask(id: number, version: number, options?: Mutation): Promise<void> {
    await this.#call('removeTask', [id, version, options]);
  }
  reorderTask(id: number, version: number, to: { priority?: number; before?: number; after?: number }, options?: Mutation): Promise<Task> {
    return this.#call('reorderTask', [id, version, to, options]);
  }
  claim(sessionId: string, options?: ClaimOptions): Promise<Claim[]> {
    return this.#call('claim', [sessionId, options]);
  }
  claimByIds(sessionId: string, ids: number[], options?: Mutation & { leaseMs?: number }): Promise<Claim[]> {
    return this.#call('claimByIds', [sessionId, ids, options]);
  }
  renewClaim(claim: ClaimRef, options?: Mutation & { leaseMs?: number }): Promise<Claim> {
    return this.#call('renewClaim', [claim, options]);
  }
  releaseClaim(claim: ClaimRef, options?: Mutation): Promise<Task> {
    return this.#call('releaseClaim', [claim, options]);
  }
  complete(claim: ClaimRef, result?: unknown, options?: CompleteOptions): Promise<Task> {
    return this.#call('complete', [claim, result, options]);
  }
  completeMany(items: CompleteItem[], options?: Mutation): Promise<Task[]> {
    return this.#call('completeMany', [items, options]);
  }
  fail(claim: ClaimRef, error: string, options?: Mutation & { retryInMs?: number }): Promise<Task> {
    return this.#call('fail', [claim, error, options]);
  }
  cancel(id: number, options?: Mutation & { version?: number; reason?: string }): Promise<Task> {
    return this.#call('cancel', [id, options]);
  }

  // --- approvals ---
  approveTask(id: number, options: ApproveOptions): Promise<Task> {
    return this.#call('approveTask', [id, options]);
  }
  rejectTask(id: number, options: RejectOptions): Promise<Task> {
    return this.#call('rejectTask', [id, options]);
  }
  setApprovalPolicy(spec: ApprovalPolicySpec): Promise<ApprovalPolicy> {
    return this.#call('setApprovalPolicy', [spec]);
  }
  approvalPolicies(): Promise<ApprovalPolicy[]> {
    return this.#call('approvalPolicies', []);
  }

  // --- budgets ---
  setBudget(spec: BudgetSpec): Promise<BudgetStatus> {
    return this.#call('setBudget', [spec]);
  }
  async removeBudget(scope: BudgetScope, options?: Mutation): Promise<void> {
    await this.#call('removeBudget', [scope, options]);
  }
  report(usage: UsageReport): Promise<UsageResult> {
    return this.#call('report', [usage]);
  }
  budgetStatus(scope?: BudgetScope): Promise<BudgetStatus[]> {
    return this.#call('budgetStatus', [scope]);
  }
  usage(options?: { since?: number }): Promise<UsageTotals> {
    return this.#call('usage', [options]);
  }
  reserve(options: ReserveOptions): Promise<Reservation> {
    return this.#call('reserve', [options]);
  }
  commitReservation(reservationId: string, actual: { promptTokens: number; completionTokens: number }, options?: Mutation): Promise<UsageResult> {
    return this.#call('commitReservation', [reservationId, actual, options]);
  }
  async cancelReservation(reservationId: string, options?: Mutation): Promise<void> {
    await this.#call('cancelReservation', [reservationId, options]);
  }
  async resetBudget(scope?: BudgetScope, options?: Mutation): Promise<void> {
    await this.#call('resetBudget', [scope, options]);
  }

  // --- quotas ---
  setQuota(options: SetQuotaOptions): Promise<QuotaRow> {
    return this.#call('setQuota', [options]);
  }
  listQuotas(): Promise<QuotaStatus[]> {
    return this.#call('listQuotas', []);
  }

  // --- rate limits ---
  setRateLimit(key: string, spec: RateLimitSpec): Promise<RateLimitStatus> {
    return this.#call('setRateLimit', [key, spec]);
  }
  take(key: string, options?: RateTakeOptions): Promise<RateTakeResult> {
    return this.#call('take', [key, options], options?.signal);
  }
  rateLimitStatus(key?: string): Promise<RateLimitStatus[]> {
    return this.#call('rateLimitStatus', [key]);
  }

  // --- events ---
  events(query?: EventQuery): Promise<BatonEvent[]> {
    return this.#call('events', [query]);
  }
  publish(event: PublishOptions): Promise<BatonEvent> {
    return this.#call('publish', [event]);
  }

  sendMessage(message: SendMessage): Promise<SentMessage> {
    return this.#call('sendMessage', [message]);
  }
  inbox(agent: string, options?: InboxOptions): Promise<InboxEntry[]> {
    return this.#call('inbox', [agent, options]);
  }
  readMessages(agent: string, ids: number[], options?: Mutation): Promise<InboxEntry[]> {
    return this.#call('readMessages', [agent, ids, options]);
  }
  ackMessages(agent: string, ids: number[], options?: Mutation): Promise<number> {
    return this.#call('ackMessages', [agent, ids, options]);
  }

  // --- release requests ---
  requestRelease(key: string, options: RequestReleaseOptions): Promise<ReleaseRequest[]> {
    return this.#call('requestRelease', [key, options]);
  }
  answerRelease(id: number, options: AnswerReleaseOptions): Promise<ReleaseRequest> {
    return this.#call('answerRelease', [id, options]);
  }
  releaseRequests(options?: ReleaseRequestFilter): Promise<ReleaseRequest[]> {
    return this.#call('releaseRequests', [options]);
  }

  // --- shared state ---
  kvGet(key: string): Promise<KvEntry | null> {
    return this.#call('kvGet', [key]);
  }
  kvPut(key: string, value: unknown, options?: KvPutOptions): Promise<KvEntry> {
    return this.#call('kvPut', [key, value, options]);
  }
  kvDelete(key: string, options?: KvDeleteOptions): Promise<KvDeleteResult> {
    return this.#call('kvDelete', [key, options]);
  }
  kvList(options?: KvListOptions): Promise<KvListResult> {
    return this.#call('kvList', [options]);
  }
  /** A subscription to the kv. events over the daemon's stream. */
  kvWatch(handler: (change: KvChange) => void, options: KvWatchOptions = {}): Subscription {
    return watchKv(this, handler, options);
  }

  /** The daemon's credential, unless this process's own environment holds an API key (it comes first, as in library mode). */
  credential(provider: CredentialProvider, options?: CredentialOptions): Promise<Credential> {
    const own = environmentCredential(provider);
    if (own !== undefined) return Promise.resolve(own);
    return this.#call('credential', [provider, options]);
  }
  subscribe(handler: (event: BatonEvent) => void, query: EventQuery = {}): Subscription {
    // Checked here as the engine checks it (-1 or none: from now): the stream would only be refused later, silently.
    const { after, types } = checkEventQuery(query, -1);
    const params = new URLSearchParams();
    if (types !== undefined && types.length > 0) params.set('topics', types.join(','));
    const path = `/v1/events${params.size > 0 ? `?${params}` : ''}`;
    // From now, the daemon first sends an id-only block with its last seq, so a reconnect resumes from there.
    const stream = openStream(this.#transport, path, { onMessage: (data) => handler(data as BatonEvent) }, after < 0 ? undefined : String(after));
    this.#streams.add(stream);
    return {
      close: () => {
        stream.close();
        this.#streams.delete(stream);
      },
    };
  }

  sweep(): Promise<SweepResult> {
    return this.#call('sweep', []);
  }

  // --- the daemon's own ---
  /** Writes a file under the project root; needs a live exclusive path lease covering it. */
  writeFile(path: string, content: string | Uint8Array, lease: LeaseRef | undefined, options: { actor?: string } = {}): Promise<FileResult> {
    const data = typeof content === 'string' ? { content } : { base64: Buffer.from(content).toString('base64') };
    return this.#call('writeFile', [{ path, ...data, ...leaseField(lease), ...options, ...this.#worktree }]);
  }
  deleteFile(path: string, lease: LeaseRef | undefined, options: { actor?: string } = {}): Promise<FileResult> {
    return this.#call('deleteFile', [{ path, ...leaseField(lease), ...options, ...this.#worktree }]);
  }
  renameFile(from: string, to: string, lease: LeaseRef | undefined, options: { actor?: string } = {}): Promise<FileResult> {
    return this.#call('renameFile', [{ from, to, ...leaseField(lease), ...options, ...this.#worktree }]);
  }
  async readFile(path: string): Promise<Uint8Array> {
    const result = await this.#call('readFile', [{ path, encoding: 'base64', ...this.#worktree }]);
    return Buffer.from(result.base64 ?? '', 'base64');
  }
  gitStatus(): Promise<{ output: string }> {
    return this.#call('gitStatus', [{ ...this.#worktree }]);
  }
  gitCommit(message: string, options: { paths?: string[]; owner?: string } = {}): Promise<{ output: string; commit: string | null }> {
    return this.#call('gitCommit', [{ message, ...options, ...this.#worktree }]);
  }
  async status(): Promise<ProjectStatus> {
    return (await this.#transport.request('/v1/status', { method: 'GET', timeoutMs: this.#requestTimeoutMs, retryForMs: this.#retryForMs })) as ProjectStatus;
  }

  /** A one-time sign-in link to the daemon's web dashboard (what `baton ui` opens). */
  async dashboardLink(options: { readOnly?: boolean } = {}): Promise<DashboardLink> {
    const body = options.readOnly === true ? { readOnly: true } : {};
    return (await this.#transport.request(DASHBOARD_LINK_PATH, { method: 'POST', body, timeoutMs: this.#requestTimeoutMs, retryForMs: this.#retryForMs })) as DashboardLink;
  }

  /** One of the daemon's own operations by name, its body as it travels: what has no method here (webhooks: `baton webhook`; projects: `baton project`). */
  daemonOperation<K extends keyof DaemonOperations>(name: K, body: Args<K>[0]): Promise<Result<K>> {
    return this.#call(name, [body] as Args<K>);
  }

  /** Signs every browser out of the daemon's dashboard; how many sessions ended. */
  async dashboardSignOut(): Promise<number> {
    return ((await this.#transport.request(DASHBOARD_SIGN_OUT_PATH, { method: 'POST', body: {}, timeoutMs: this.#requestTimeoutMs })) as { ended: number }).ended;
  }

  /** Stops heartbeats and streams. Sessions bound to this client end (their stream drops). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new BatonError('UNAVAILABLE', 'the client was closed'));
    for (const id of [...this.#sessions.keys()]) this.#unbind(id);
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    this.#transport.close();
  }
}
