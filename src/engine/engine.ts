// The engine: the Coordinator over a store, as a table of short methods.
// Each checks its arguments (with the check functions of its concept
// module, next to this file), then runs one store transaction of that
// module's rules, or a wait that lives with them (lease-wait.ts,
// subscription.ts). Mutations are idempotent (mutate). What they stand on
// (transactions, the sweeper, heartbeats) is engine-core.ts.
import type { AcquireOptions, BatonEvent, BudgetScope, BudgetSpec, BudgetStatus, Claim, ClaimOptions, ClaimRef, Coordinator, EventQuery, Lease, LeaseInfo } from '../coordinator.ts';
import type { LeaseHold, LeaseRef, Mutation, PublishOptions, RateLimitSpec, RateLimitStatus, RateTakeOptions, RateTakeResult, RegisterOptions, Reservation, ReserveOptions } from '../coordinator.ts';
import type { Credential, CredentialOptions, CredentialProvider } from '../coordinator.ts';
import type { QuotaRow, QuotaStatus, SetQuotaOptions } from '../coordinator.ts';
import type { CompleteItem, CompleteOptions } from '../coordinator.ts';
import type { KvChange, KvDeleteOptions, KvDeleteResult, KvEntry, KvListOptions, KvListResult, KvPutOptions, KvWatchOptions } from '../coordinator.ts';
import type { InboxEntry, InboxOptions, SendMessage, SentMessage } from '../coordinator.ts';
import type { ApprovalPolicy, ApprovalPolicySpec, ApproveOptions, RejectOptions } from '../coordinator.ts';
import type { AnswerReleaseOptions, ReleaseRequest, ReleaseRequestFilter, RequestReleaseOptions } from '../coordinator.ts';
import type { Session, Subscription, Task, TaskFilter, TaskPatch, TaskSpec, TaskStatus, UsageReport, UsageResult, UsageTotals } from '../coordinator.ts';
import { CredentialBroker } from '../credentials/broker.ts';
import { BatonError } from '../errors.ts';
import { watchKv } from '../kv-watch.ts';
import { runWithLease } from '../lease-scope.ts';
import * as budgets from './budgets.ts';
import { checkCredentialRequest } from './credentials.ts';
import { EngineCore } from './engine-core.ts';
import * as events from './events.ts';
import * as kv from './kv.ts';
import { waitForLease } from './lease-wait.ts';
import * as leases from './leases.ts';
import * as messages from './messages.ts';
import * as inboxes from './messages-inbox.ts';
import * as quotas from './quotas.ts';
import * as rates from './rate-limits.ts';
import * as releases from './release-requests.ts';
import * as sessions from './sessions.ts';
import { checkSubscription, follow } from './subscription.ts';
import * as approvals from './task-approvals.ts';
import * as claims from './task-claims.ts';
import * as edits from './task-edits.ts';
import * as outcomes from './task-outcomes.ts';
import * as artifacts from './task-artifacts.ts';
import * as tasks from './tasks.ts';

export { type EngineOptions } from './engine-core.ts';

export class Engine extends EngineCore implements Coordinator {
  /** Hands out provider credentials, refreshing them one process at a time (made on first use). */
  #credentials: CredentialBroker | undefined;

  // --- leases -----------------------------------------------------------

  async acquire(key: string, options: AcquireOptions): Promise<Lease> {
    const request = leases.checkAcquire(key, options);
    return waitForLease(this.db, request, leases.checkAcquireTimeout(options), options);
  }

  async renew(lease: LeaseRef, options: Mutation & { ttlMs?: number } = {}): Promise<Lease> {
    const checked = leases.checkRenew(lease, options);
    return this.mutate('renew', checked, options, (tx) => leases.renewLease(tx, checked.ref, checked.ttlMs));
  }

  async release(lease: LeaseRef, options?: Mutation): Promise<void> {
    const ref = leases.checkRef(lease);
    return this.mutate('release', ref, options, (tx) => leases.releaseLease(tx, ref));
  }

  async forceRelease(key: string, options: Mutation & { token?: number; reason?: string } = {}): Promise<number> {
    const checked = leases.checkForceRelease(key, options);
    return this.mutate('forceRelease', checked, options, (tx) => leases.forceRelease(tx, checked.k, checked.token, checked.reason));
  }

  async checkLease(lease: LeaseRef): Promise<Lease> {
    const ref = leases.checkRef(lease);
    return this.readTx(async (tx) => leases.leaseFromRow(await leases.heldLease(tx, ref)));
  }

  async getLease(key: string): Promise<LeaseInfo> {
    const k = leases.normalizeKey(key);
    return this.readTx((tx) => leases.leaseInfo(tx, k));
  }

  async listLeases(options: { prefix?: string } = {}): Promise<Lease[]> {
    const prefix = leases.checkPrefix(options);
    return this.readTx((tx) => leases.listLeases(tx, prefix));
  }

  withLease<T>(key: string, options: AcquireOptions, fn: (lease: Lease, hold: LeaseHold) => Promise<T>): Promise<T> {
    return runWithLease(this, key, options, fn);
  }

  // --- sessions ---------------------------------------------------------

  async register(options: RegisterOptions): Promise<Session> {
    const input = sessions.checkRegister(options);
    const session = await this.mutate('register', input, options, (tx) => sessions.registerSession(tx, input));
    if (options.autoHeartbeat !== false) this.heartbeats.start(session.id, session.ttlMs, () => this.heartbeat(session.id));
    return session;
  }

  async heartbeat(sessionId: string): Promise<Session> {
    const id = sessions.checkSessionId(sessionId);
    const outcome = await this.writeTx((tx) => sessions.heartbeat(tx, id));
    if ('session' in outcome) return outcome.session;
    throw new BatonError('SESSION_ENDED', `session ${id} (${outcome.row.name}) ended: ${outcome.endedBecause}`, { details: { sessionId: id } });
  }

  async endSession(sessionId: string, options: Mutation & { reason?: string } = {}): Promise<void> {
    const checked = sessions.checkEnd(sessionId, options);
    this.heartbeats.stop(sessionId);
    await this.mutate('endSession', checked, options, (tx) => sessions.endSessionById(tx, checked.sessionId, checked.reason));
  }

  async getSession(sessionId: string): Promise<Session> {
    const id = sessions.checkSessionId(sessionId);
    return this.readTx((tx) => sessions.getSession(tx, id));
  }

  async listSessions(options: { includeEnded?: boolean } = {}): Promise<Session[]> {
    return this.readTx((tx) => sessions.listSessions(tx, options.includeEnded));
  }

  // --- tasks ------------------------------------------------------------

  async addTask(spec: TaskSpec, options?: Mutation): Promise<Task> {
    return (await this.addTasks([spec], options))[0]!;
  }

  async addTasks(specs: TaskSpec[], options?: Mutation): Promise<Task[]> {
    const checked = tasks.checkSpecs(specs);
    return this.mutate('addTasks', checked, options, async (tx) => {
      await quotas.checkQueued(tx, checked.length);
      const out: Task[] = [];
      for (const spec of checked) out.push(tasks.taskFromRow(await edits.addTask(tx, spec)));
      return out;
    });
  }

  async getTask(id: number): Promise<Task> {
    const checked = tasks.checkId(id);
    return this.readTx(async (tx) => ({ ...(await tasks.getTask(tx, checked)), artifacts: await artifacts.artifactsOf(tx, checked) }));
  }

  async listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    const checked = tasks.checkFilter(filter);
    const artifact = filter.artifact === undefined ? undefined : artifacts.checkArtifactQuery(filter.artifact);
    return this.readTx((tx) => (artifact === undefined ? tasks.listTasks(tx, checked) : artifacts.tasksByArtifact(tx, artifact, checked)));
  }

  async taskCounts(options: { queue?: string } = {}): Promise<Record<TaskStatus, number>> {
    const queue = tasks.checkQueueFilter(options.queue);
    return this.readTx((tx) => tasks.taskCounts(tx, queue));
  }

  async updateTask(id: number, version: number, patch: TaskPatch, options?: Mutation): Promise<Task> {
    const changes = tasks.checkUpdate(id, version, patch);
    return this.mutate('updateTask', { id, version, patch }, options, async (tx) => tasks.taskFromRow(await edits.updateTask(tx, id, version, patch, changes)));
  }

  async removeTask(id: number, version: number, options?: Mutation): Promise<void> {
    const checked = tasks.checkRemove(id, version);
    return this.mutate('removeTask', checked, options, (tx) => edits.removeTask(tx, checked.id, checked.version));
  }

  async reorderTask(id: number, version: number, to: { priority?: number; before?: number; after?: number }, options?: Mutation): Promise<Task> {
    const placement = tasks.checkReorder(id, version, to);
    return this.mutate('reorderTask', { id, version, to }, options, async (tx) => tasks.taskFromRow(await edits.reorderTask(tx, id, version, placement)));
  }

  async claim(sessionId: string, options: ClaimOptions = {}): Promise<Claim[]> {
    const checked = tasks.checkClaim(sessionId, options);
    await this.sweeper.maybe();
    const made = await this.mutate('claim', checked, options, async (tx) => {
      const n = await quotas.claimRoom(tx, await sessions.liveSession(tx, checked.sessionId), checked.n, false);
      return claims.claimTasks(tx, checked.sessionId, checked.queue, n, checked.leaseMs);
    });
    // Many tasks are read after the commit, outside the write lock (an idempotent replay reads them anew).
    return Array.isArray(made) ? made : this.readTx((tx) => claims.claimsFromTickets(tx, checked.sessionId, made.tickets));
  }

  async claimByIds(sessionId: string, ids: number[], options: Mutation & { leaseMs?: number } = {}): Promise<Claim[]> {
    const checked = tasks.checkClaimByIds(sessionId, ids, options);
    await this.sweeper.maybe();
    return this.mutate('claimByIds', checked, options, async (tx) => {
      await quotas.claimRoom(tx, await sessions.liveSession(tx, checked.sessionId), checked.checked.length, true);
      return claims.claimByIds(tx, checked.sessionId, checked.checked, checked.leaseMs);
    });
  }

  async renewClaim(claim: ClaimRef, options: Mutation & { leaseMs?: number } = {}): Promise<Claim> {
    const checked = tasks.checkRenewClaim(claim, options);
    return this.mutate('renewClaim', checked, options, (tx) => claims.renewClaim(tx, checked.ref, checked.leaseMs));
  }

  async releaseClaim(claim: ClaimRef, options?: Mutation): Promise<Task> {
    const ref = tasks.checkClaimRef(claim);
    return this.mutate('releaseClaim', ref, options, async (tx) => tasks.taskFromRow(await claims.releaseClaim(tx, ref)));
  }

  async complete(claim: ClaimRef, result?: unknown, options?: CompleteOptions): Promise<Task> {
    const item = tasks.checkCompletion(claim, result);
    const made = artifacts.checkArtifacts(options?.artifacts);
    return this.mutate('complete', { ...item, made }, options, (tx) => artifacts.completeWithArtifacts(tx, item, made));
  }

  async completeMany(items: CompleteItem[], options?: Mutation): Promise<Task[]> {
    const checked = tasks.checkCompletions(items);
    const stored = artifacts.checkManyArtifacts(items);
    const made = await this.mutate('completeMany', { checked, stored }, options, (tx) => artifacts.completeManyWithArtifacts(tx, checked, stored));
    // Many tasks are read after the commit, outside the write lock (with their artifacts, if any were given).
    if (Array.isArray(made)) return made;
    return this.readTx(async (tx) => {
      const done = await tasks.tasksByIds(tx, made.ids);
      return stored.some((a) => a.length > 0) ? artifacts.withArtifacts(tx, done) : done;
    });
  }

  async fail(claim: ClaimRef, error: string, options: Mutation & { retryInMs?: number } = {}): Promise<Task> {
    const checked = tasks.checkFail(claim, error, options);
    const { ref, explicit } = checked;
    return this.mutate('fail', checked, options, async (tx) => {
      return tasks.taskFromRow(await outcomes.failTask(tx, ref, checked.error, (attempts) => explicit ?? outcomes.retryDelay(attempts, this.retry)));
    });
  }

  async cancel(id: number, options: Mutation & { version?: number; reason?: string } = {}): Promise<Task> {
    const checked = tasks.checkCancel(id, options);
    return this.mutate('cancel', checked, options, async (tx) => tasks.taskFromRow(await edits.cancelTask(tx, checked.id, checked.version, checked.reason)));
  }

  // --- approvals (task-approvals.ts) ----------------------------------------

  async approveTask(id: number, options: ApproveOptions): Promise<Task> {
    const d = approvals.checkApprove(id, options);
    return this.mutate('approveTask', d, options, async (tx) => tasks.taskFromRow(await approvals.approveTask(tx, d)));
  }

  async rejectTask(id: number, options: RejectOptions): Promise<Task> {
    const d = approvals.checkReject(id, options);
    return this.mutate('rejectTask', d, options, async (tx) => tasks.taskFromRow(await approvals.rejectTask(tx, d)));
  }

  async setApprovalPolicy(spec: ApprovalPolicySpec): Promise<ApprovalPolicy> {
    const p = approvals.checkPolicy(spec);
    return this.mutate('setApprovalPolicy', p, spec, (tx) => approvals.setPolicy(tx, p));
  }

  async approvalPolicies(): Promise<ApprovalPolicy[]> {
    return this.readTx((tx) => approvals.listPolicies(tx));
  }

  // --- budgets ----------------------------------------------------------

  async setBudget(spec: BudgetSpec): Promise<BudgetStatus> {
    const checked = budgets.checkBudget(spec);
    return this.mutate('setBudget', spec, spec, (tx) => budgets.setBudget(tx, checked));
  }

  async removeBudget(scope: BudgetScope, options?: Mutation): Promise<void> {
    const checked = budgets.checkScope(scope);
    return this.mutate('removeBudget', scope, options, (tx) => budgets.removeBudget(tx, checked));
  }

  async report(usage: UsageReport): Promise<UsageResult> {
    const u = budgets.checkUsage(usage);
    return this.mutate('report', u, usage, (tx) => budgets.recordUsage(tx, u.agent, u.model, u.prompt, u.completion));
  }

  async budgetStatus(scope?: BudgetScope): Promise<BudgetStatus[]> {
    const checked = budgets.checkOptionalScope(scope);
    return this.readTx((tx) => budgets.budgetStatus(tx, checked));
  }

  async usage(options: { since?: number } = {}): Promise<UsageTotals> {
    const since = budgets.checkSince(options);
    return this.readTx((tx) => budgets.usageTotals(tx, since));
  }

  async reserve(options: ReserveOptions): Promise<Reservation> {
    const r = budgets.checkReserve(options);
    return this.mutate('reserve', r, options, (tx) => budgets.reserve(tx, r.agent, r.model, r.estimate, r.ttlMs));
  }

  async commitReservation(reservationId: string, actual: { promptTokens: number; completionTokens: number }, options?: Mutation): Promise<UsageResult> {
    const c = budgets.checkCommit(reservationId, actual);
    return this.mutate('commitReservation', c, options, (tx) => budgets.commitReservation(tx, c.reservationId, c.prompt, c.completion));
  }

  async cancelReservation(reservationId: string, options?: Mutation): Promise<void> {
    const id = budgets.checkReservationId(reservationId);
    return this.mutate('cancelReservation', id, options, (tx) => budgets.cancelReservation(tx, id));
  }

  async resetBudget(scope?: BudgetScope, options?: Mutation): Promise<void> {
    const checked = budgets.checkOptionalScope(scope);
    return this.mutate('resetBudget', scope ?? null, options, (tx) => budgets.resetBudget(tx, checked));
  }

  // --- quotas (quotas.ts) ----------------------------------------------------

  async setQuota(options: SetQuotaOptions): Promise<QuotaRow> {
    const q = quotas.checkSetQuota(options);
    const row = await this.mutate('setQuota', q, options, (tx) => quotas.setQuota(tx, q));
    // Again after the commit: a check in between (PostgreSQL) may have cached the rows as they were.
    await this.readTx(async (tx) => quotas.forgetLimits(tx));
    return row;
  }

  async listQuotas(): Promise<QuotaStatus[]> {
    return this.readTx((tx) => quotas.listQuotas(tx));
  }

  // --- rate limits --------------------------------------------------------

  async setRateLimit(key: string, spec: RateLimitSpec): Promise<RateLimitStatus> {
    const s = rates.checkSetRateLimit(key, spec);
    return this.mutate('setRateLimit', s, spec, (tx) => rates.setRateLimit(tx, s.k, s.rate, s.burst));
  }

  async take(key: string, options: RateTakeOptions = {}): Promise<RateTakeResult> {
    const t = rates.checkTake(key, options);
    options.signal?.throwIfAborted();
    const result = await this.mutate('take', t, options, async (tx) => {
      if (t.spec !== undefined) await rates.setRateLimit(tx, t.k, t.spec.rate, t.spec.burst);
      return rates.take(tx, t.k, t.cost, t.maxWait, null);
    });
    if (result.granted && result.waitedMs > 0) await rates.waitForBooked(this.store, t.k, t.cost, result.waitedMs, options.signal);
    return result;
  }

  async rateLimitStatus(key?: string): Promise<RateLimitStatus[]> {
    return this.readTx((tx) => rates.rateStatus(tx, key));
  }

  // --- events -------------------------------------------------------------

  async events(query: EventQuery = {}): Promise<BatonEvent[]> {
    const checked = events.checkEventQuery(query);
    return this.readTx((tx) => events.readEvents(tx, checked));
  }

  async publish(event: PublishOptions): Promise<BatonEvent> {
    const checked = events.checkPublish(event);
    return this.mutate('publish', checked, event, (tx) => events.publish(tx, checked));
  }

  subscribe(handler: (event: BatonEvent) => void, query: EventQuery = {}): Subscription {
    return follow(this.db, handler, checkSubscription(handler, query), this.subscriptions);
  }

  // --- messages between agents ---------------------------------------------

  async sendMessage(message: SendMessage): Promise<SentMessage> {
    const checked = messages.checkMessage({ ...message, kind: 'message', ref: null });
    return this.mutate('sendMessage', checked, message, (tx) => messages.deliver(tx, checked));
  }

  async inbox(agent: string, options?: InboxOptions): Promise<InboxEntry[]> {
    const q = inboxes.checkInbox(agent, options);
    return this.readTx((tx) => inboxes.inbox(tx, q));
  }

  async readMessages(agent: string, ids: number[], options?: Mutation): Promise<InboxEntry[]> {
    const c = inboxes.checkIds(agent, ids);
    return this.mutate('readMessages', c, options, (tx) => inboxes.readMessages(tx, c.agent, c.ids));
  }

  async ackMessages(agent: string, ids: number[], options?: Mutation): Promise<number> {
    const c = inboxes.checkIds(agent, ids);
    return this.mutate('ackMessages', c, options, (tx) => inboxes.ackMessages(tx, c.agent, c.ids));
  }

  // --- release requests ----------------------------------------------------

  async requestRelease(key: string, options: RequestReleaseOptions): Promise<ReleaseRequest[]> {
    const r = releases.checkRequestRelease(key, options);
    return this.mutate('requestRelease', r, options, (tx) => releases.requestRelease(tx, r));
  }

  async answerRelease(id: number, options: AnswerReleaseOptions): Promise<ReleaseRequest> {
    const a = releases.checkAnswerRelease(id, options);
    return this.mutate('answerRelease', a, options, (tx) => releases.answerRelease(tx, a));
  }

  async releaseRequests(options?: ReleaseRequestFilter): Promise<ReleaseRequest[]> {
    return releases.listReleaseRequests(this.db, releases.checkReleaseFilter(options));
  }

  // --- shared state ---------------------------------------------------------

  async kvGet(key: string): Promise<KvEntry | null> {
    const k = kv.checkKvKey(key);
    return this.readTx((tx) => kv.kvGet(tx, k));
  }

  async kvPut(key: string, value: unknown, options?: KvPutOptions): Promise<KvEntry> {
    const put = kv.checkPut(key, value, options);
    return this.mutate('kvPut', put, options, (tx) => kv.kvPut(tx, put));
  }

  async kvDelete(key: string, options?: KvDeleteOptions): Promise<KvDeleteResult> {
    const del = kv.checkDelete(key, options);
    return this.mutate('kvDelete', del, options, (tx) => kv.kvDelete(tx, del));
  }

  async kvList(options?: KvListOptions): Promise<KvListResult> {
    const list = kv.checkList(options);
    return this.readTx((tx) => kv.kvList(tx, list));
  }

  kvWatch(handler: (change: KvChange) => void, options: KvWatchOptions = {}): Subscription {
    return watchKv(this, handler, options);
  }

  // --- credentials --------------------------------------------------------

  async credential(provider: CredentialProvider, options: CredentialOptions = {}): Promise<Credential> {
    this.checkOpen();
    const checked = checkCredentialRequest(provider, options);
    this.#credentials ??= new CredentialBroker({ onEvent: (type, data) => this.publish({ type, data }) });
    return this.#credentials.get(checked.provider, checked);
  }
}
