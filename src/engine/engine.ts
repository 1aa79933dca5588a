// The engine: the Coordinator over a store. Each operation is one store
// transaction (or, for waits, a loop of them); the rules live in the
// per-concept modules next to this file.
import type {
  AcquireOptions,
  BatonEvent,
  BudgetScope,
  BudgetSpec,
  BudgetStatus,
  Claim,
  ClaimOptions,
  ClaimRef,
  Coordinator,
  EventQuery,
  Lease,
  LeaseInfo,
  LeaseRef,
  Mutation,
  PublishOptions,
  RateLimitSpec,
  RateLimitStatus,
  RateTakeOptions,
  RateTakeResult,
  RegisterOptions,
  Reservation,
  ReserveOptions,
  Session,
  Subscription,
  SweepResult,
  Task,
  TaskFilter,
  TaskPatch,
  TaskSpec,
  TaskStatus,
  UsageReport,
  UsageResult,
  UsageTotals,
} from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { runWithLease } from '../lease-scope.ts';
import {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_CLAIM_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_RESERVATION_MS,
  EVENT_TYPE_PATTERN,
  LEASE_MODES,
  MAX_BATCH,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_LIST_LIMIT,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  TASK_STATES,
} from '../limits.ts';
import type { Store, StoreTx } from '../stores/store.ts';
import * as budgets from './budgets.ts';
import { checkEventQuery, emit, pruneEvents, readEvents, type Retention } from './events.ts';
import { idempotent, pruneIdempotency } from './idempotency.ts';
import { waitForLease } from './lease-wait.ts';
import * as leases from './leases.ts';
import * as limits from './rate-limits.ts';
import * as sessions from './sessions.ts';
import { checkSubscription, follow } from './subscription.ts';
import * as tasks from './tasks.ts';
import { invalid, optionalInt, optionalReason, requireInt, requireNumber, requireOneOf, requireString, requireTimeout, show } from './validate.ts';
import { sleep, type Transactions } from './waiting.ts';

export interface EngineOptions {
  /** How often this process sweeps lapsed leases, claims and sessions (shared with other processes). Default 500 ms. */
  sweepIntervalMs?: number;
  retention?: Partial<Retention>;
  retry?: Partial<tasks.RetryPolicy>;
}

/** The engine's settings from its options, checked: a bad one is refused before any store is opened. */
export function engineSettings(options: EngineOptions = {}): { sweepIntervalMs: number; retention: Retention; retry: tasks.RetryPolicy } {
  if (typeof options !== 'object' || options === null) throw invalid('engine options must be an object');
  const { retention = {}, retry = {} } = options;
  if (typeof retention !== 'object' || retention === null) throw invalid(`retention must be an object { maxAgeMs?, maxCount? }, not ${show(retention)}`);
  if (typeof retry !== 'object' || retry === null) throw invalid(`retry must be an object { baseMs?, maxMs? }, not ${show(retry)}`);
  return {
    sweepIntervalMs: optionalInt('sweepIntervalMs', options.sweepIntervalMs, 500, { min: 10 }),
    retention: {
      // Infinity: never prune by age.
      maxAgeMs: retention.maxAgeMs === undefined ? 7 * 24 * 3600_000 : retention.maxAgeMs === Infinity ? Infinity : requireNumber('retention.maxAgeMs', retention.maxAgeMs, { exclusiveMin: true }),
      // At least 1: the newest event is what the next seq counts on.
      maxCount: optionalInt('retention.maxCount', retention.maxCount, 100_000, { min: 1 }),
    },
    retry: {
      baseMs: optionalInt('retry.baseMs', retry.baseMs, 1_000),
      maxMs: optionalInt('retry.maxMs', retry.maxMs, 3600_000),
    },
  };
}

export class Engine implements Coordinator {
  readonly store: Store;
  #sweepIntervalMs: number;
  #retention: Retention;
  #retry: tasks.RetryPolicy;
  #sweepTimer: NodeJS.Timeout | undefined;
  #heartbeats = new Map<string, NodeJS.Timeout>();
  #subscriptions = new Set<Subscription>();
  #closed = false;
  #lastDueCheck = -Infinity;
  /** The store as the waits (lease-wait.ts) use it. */
  readonly #db: Transactions;

  constructor(store: Store, options: EngineOptions = {}) {
    this.store = store;
    this.#db = { store, write: (fn) => this.#write(fn), read: (fn) => this.#read(fn) };
    const settings = engineSettings(options);
    this.#sweepIntervalMs = settings.sweepIntervalMs;
    this.#retention = settings.retention;
    this.#retry = settings.retry;
    this.#scheduleSweep();
  }

  // --- plumbing ---------------------------------------------------------

  #write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#checkOpen();
    return this.store.write(fn);
  }

  #read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#checkOpen();
    return this.store.read(fn);
  }

  /** One idempotent write: the same key and request returns the first result. */
  #mutate<T>(operation: string, request: unknown, options: Mutation | undefined, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#write((tx) => idempotent(tx, options?.idempotencyKey, operation, request, () => fn(tx)));
  }

  #checkOpen(): void {
    if (this.#closed) throw new BatonError('STORE_ERROR', 'this coordinator is closed');
  }

  #scheduleSweep(): void {
    // Jittered so that many processes do not sweep in step; whoever is due first does it for all.
    const delay = this.#sweepIntervalMs * (0.5 + Math.random());
    this.#sweepTimer = setTimeout(() => {
      this.#sweepIfDue()
        .catch(() => {
          // a failed background sweep is retried at the next tick
        })
        .finally(() => {
          if (!this.#closed) this.#scheduleSweep();
        });
    }, delay);
    this.#sweepTimer.unref();
  }

  /** Sweeps now if no process has within the interval: on open, and before claims, so short-lived processes see lapsed claims too. */
  async sweepIfDue(): Promise<void> {
    this.#lastDueCheck = performance.now();
    const next = await this.store.read((tx) => tx.get<{ value: string }>('metaGet', { key: 'next_sweep_at' }));
    if (next === undefined || Number(next.value) <= (await this.store.now())) await this.#sweepIfDue();
  }

  async #maybeSweep(): Promise<void> {
    if (performance.now() - this.#lastDueCheck >= 50) await this.sweepIfDue();
  }

  async #sweepIfDue(): Promise<void> {
    if (this.#closed) return;
    await this.store.write(async (tx) => {
      const next = await tx.get<{ value: string }>('metaGet', { key: 'next_sweep_at' });
      if (next !== undefined && Number(next.value) > tx.now) return;
      await tx.run('metaSet', { key: 'next_sweep_at', value: String(tx.now + this.#sweepIntervalMs) });
      await this.#sweepIn(tx);
    });
  }

  async #sweepIn(tx: StoreTx): Promise<SweepResult> {
    const sessionsEnded = await sessions.sweepSessions(tx);
    const leasesExpired = await leases.sweepLeases(tx);
    const claimsExpired = await tasks.sweepClaims(tx);
    await budgets.sweepReservations(tx);
    await pruneIdempotency(tx);
    const eventsPruned = await pruneEvents(tx, this.#retention);
    return { leasesExpired, claimsExpired, sessionsEnded, eventsPruned };
  }

  async sweep(): Promise<SweepResult> {
    return this.#write((tx) => this.#sweepIn(tx));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#sweepTimer);
    for (const timer of this.#heartbeats.values()) clearInterval(timer);
    this.#heartbeats.clear();
    for (const s of [...this.#subscriptions]) s.close();
    await this.store.close();
  }

  // --- leases -----------------------------------------------------------

  async acquire(key: string, options: AcquireOptions): Promise<Lease> {
    if (typeof options !== 'object' || options === null) throw invalid('acquire needs options { owner, ... }');
    const request: leases.LeaseRequest = {
      key: leases.normalizeKey(key),
      owner: requireString('owner', options.owner, { max: MAX_NAME_LENGTH }),
      mode: requireOneOf('mode', options.mode, LEASE_MODES, 'exclusive'),
      ttlMs: optionalInt('ttlMs', options.ttlMs, DEFAULT_LEASE_TTL_MS),
      sessionId: options.sessionId === undefined ? null : requireString('sessionId', options.sessionId, { max: MAX_ID_LENGTH }),
    };
    if (request.ttlMs === 0 && request.sessionId === null) throw invalid('ttlMs 0 (no expiry) needs a sessionId: a lease must end somehow');
    const timeoutMs = requireTimeout('timeoutMs', options.timeoutMs, DEFAULT_ACQUIRE_TIMEOUT_MS);
    return waitForLease(this.#db, request, timeoutMs, options);
  }

  async renew(lease: LeaseRef, options: Mutation & { ttlMs?: number } = {}): Promise<Lease> {
    const ref = leases.checkRef(lease);
    const ttlMs = optionalInt('ttlMs', options.ttlMs, DEFAULT_LEASE_TTL_MS);
    return this.#mutate('renew', { ref, ttlMs }, options, async (tx) => {
      const renewed = await leases.renewLease(tx, ref, ttlMs);
      return renewed;
    });
  }

  async release(lease: LeaseRef, options?: Mutation): Promise<void> {
    const ref = leases.checkRef(lease);
    return this.#mutate('release', ref, options, (tx) => leases.releaseLease(tx, ref));
  }

  async forceRelease(key: string, options: Mutation & { token?: number; reason?: string } = {}): Promise<number> {
    const k = leases.normalizeKey(key);
    const token = options.token === undefined ? undefined : requireInt('token', options.token, { min: 1 });
    const reason = optionalReason(options.reason, 'forced');
    return this.#mutate('forceRelease', { k, token, reason }, options, (tx) => leases.forceRelease(tx, k, token, reason));
  }

  async checkLease(lease: LeaseRef): Promise<Lease> {
    const ref = leases.checkRef(lease);
    return this.#read(async (tx) => leases.leaseFromRow(await leases.heldLease(tx, ref)));
  }

  async getLease(key: string): Promise<LeaseInfo> {
    const k = leases.normalizeKey(key);
    return this.#read((tx) => leases.leaseInfo(tx, k));
  }

  async listLeases(options: { prefix?: string } = {}): Promise<Lease[]> {
    const prefix = options.prefix ?? '';
    if (typeof prefix !== 'string') throw invalid('prefix must be a string');
    if (prefix.length > MAX_KEY_LENGTH) throw invalid(`prefix must be at most ${MAX_KEY_LENGTH} characters, not ${prefix.length}`);
    return this.#read((tx) => leases.listLeases(tx, prefix));
  }

  withLease<T>(key: string, options: AcquireOptions, fn: (lease: Lease) => Promise<T>): Promise<T> {
    return runWithLease(this, key, options, fn);
  }

  // --- sessions ---------------------------------------------------------

  async register(options: RegisterOptions): Promise<Session> {
    const input = sessions.checkRegister(options);
    const session = await this.#mutate('register', input, options, (tx) => sessions.registerSession(tx, input));
    if (options.autoHeartbeat !== false && !this.#heartbeats.has(session.id)) {
      const timer = setInterval(() => {
        this.heartbeat(session.id).catch(() => {
          clearInterval(timer);
          this.#heartbeats.delete(session.id);
        });
      }, Math.max(50, Math.floor(session.ttlMs / 3)));
      timer.unref();
      this.#heartbeats.set(session.id, timer);
    }
    return session;
  }

  async heartbeat(sessionId: string): Promise<Session> {
    const outcome = await this.#write((tx) => sessions.heartbeat(tx, sessionId));
    if ('session' in outcome) return outcome.session;
    throw new BatonError('SESSION_ENDED', `session ${sessionId} (${outcome.row.name}) ended: ${outcome.endedBecause}`, { details: { sessionId } });
  }

  async endSession(sessionId: string, options: Mutation & { reason?: string } = {}): Promise<void> {
    const reason = optionalReason(options.reason, 'ended');
    const timer = this.#heartbeats.get(sessionId);
    if (timer !== undefined) clearInterval(timer);
    this.#heartbeats.delete(sessionId);
    await this.#mutate('endSession', { sessionId, reason }, options, async (tx) => {
      const row = await sessions.getSessionRow(tx, sessionId);
      await sessions.endSession(tx, row, reason);
    });
  }

  async getSession(sessionId: string): Promise<Session> {
    return this.#read(async (tx) => sessions.sessionFromRow(await sessions.getSessionRow(tx, sessionId)));
  }

  async listSessions(options: { includeEnded?: boolean } = {}): Promise<Session[]> {
    return this.#read(async (tx) => {
      const rows = await tx.all<sessions.SessionRow>(options.includeEnded ? 'sessionListAll' : 'sessionList');
      return rows.map(sessions.sessionFromRow);
    });
  }

  // --- tasks ------------------------------------------------------------

  async addTask(spec: TaskSpec, options?: Mutation): Promise<Task> {
    return (await this.addTasks([spec], options))[0]!;
  }

  async addTasks(specs: TaskSpec[], options?: Mutation): Promise<Task[]> {
    if (!Array.isArray(specs) || specs.length === 0) throw invalid('addTasks needs a non-empty array of task specs');
    const checked = specs.map((s, i) => tasks.checkSpec(s, specs.length > 1 ? i : undefined));
    return this.#mutate('addTasks', checked, options, async (tx) => {
      const out: Task[] = [];
      for (const spec of checked) out.push(tasks.taskFromRow(await tasks.addTask(tx, spec)));
      return out;
    });
  }

  async getTask(id: number): Promise<Task> {
    return this.#read(async (tx) => tasks.taskFromRow(await tasks.getTaskRow(tx, id)));
  }

  async listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    const statuses = filter.status === undefined ? undefined : Array.isArray(filter.status) ? filter.status : [filter.status];
    for (const s of statuses ?? []) requireOneOf('status', s, TASK_STATES);
    const queue = filter.queue === undefined ? null : tasks.checkQueue(filter.queue);
    const limit = optionalInt('limit', filter.limit, DEFAULT_LIST_LIMIT, { min: 1, max: MAX_LIST_LIMIT });
    return this.#read(async (tx) => {
      const rows = await tx.all<tasks.TaskRow>('taskList', { queue, status: statuses?.length === 1 ? statuses[0]! : null, limit: statuses && statuses.length > 1 ? 1_000_000 : limit });
      const out: Task[] = [];
      for (const row of rows) {
        if (statuses !== undefined && !statuses.includes(row.status)) continue;
        out.push(tasks.taskFromRow(row));
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  async taskCounts(options: { queue?: string } = {}): Promise<Record<TaskStatus, number>> {
    const queue = options.queue === undefined ? null : tasks.checkQueue(options.queue);
    const rows = await this.#read((tx) => tx.all<{ status: TaskStatus; n: number }>('taskCounts', { queue }));
    const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async updateTask(id: number, version: number, patch: TaskPatch, options?: Mutation): Promise<Task> {
    return this.#mutate('updateTask', { id, version, patch }, options, async (tx) => tasks.taskFromRow(await tasks.updateTask(tx, id, version, patch)));
  }

  async removeTask(id: number, version: number, options?: Mutation): Promise<void> {
    return this.#mutate('removeTask', { id, version }, options, (tx) => tasks.removeTask(tx, id, version));
  }

  async reorderTask(id: number, version: number, to: { priority?: number; before?: number; after?: number }, options?: Mutation): Promise<Task> {
    return this.#mutate('reorderTask', { id, version, to }, options, async (tx) => tasks.taskFromRow(await tasks.reorderTask(tx, id, version, to)));
  }

  async claim(sessionId: string, options: ClaimOptions = {}): Promise<Claim[]> {
    const queue = tasks.checkQueue(options.queue);
    const n = optionalInt('n', options.n, 1, { min: 1, max: MAX_BATCH });
    const leaseMs = optionalInt('leaseMs', options.leaseMs, DEFAULT_CLAIM_MS, { min: 1 });
    await this.#maybeSweep();
    const made = await this.#mutate('claim', { sessionId, queue, n, leaseMs }, options, async (tx) => {
      await sessions.liveSession(tx, sessionId);
      return tasks.claimTasks(tx, sessionId, queue, n, leaseMs);
    });
    // Many tasks are read after the commit, outside the write lock (an idempotent replay reads them anew).
    return Array.isArray(made) ? made : this.#read((tx) => tasks.claimsFromTickets(tx, sessionId, made.tickets));
  }

  async claimByIds(sessionId: string, ids: number[], options: Mutation & { leaseMs?: number } = {}): Promise<Claim[]> {
    if (!Array.isArray(ids) || ids.length === 0) throw invalid('claimByIds needs a non-empty array of task ids');
    const checked = [...new Set(ids.map(tasks.checkId))];
    const leaseMs = optionalInt('leaseMs', options.leaseMs, DEFAULT_CLAIM_MS, { min: 1 });
    await this.#maybeSweep();
    return this.#mutate('claimByIds', { sessionId, checked, leaseMs }, options, async (tx) => {
      await sessions.liveSession(tx, sessionId);
      return tasks.claimByIds(tx, sessionId, checked, leaseMs);
    });
  }

  async renewClaim(claim: ClaimRef, options: Mutation & { leaseMs?: number } = {}): Promise<Claim> {
    const ref = tasks.checkClaimRef(claim);
    const leaseMs = optionalInt('leaseMs', options.leaseMs, DEFAULT_CLAIM_MS, { min: 1 });
    return this.#mutate('renewClaim', { ref, leaseMs }, options, (tx) => tasks.renewClaim(tx, ref, leaseMs));
  }

  async releaseClaim(claim: ClaimRef, options?: Mutation): Promise<Task> {
    const ref = tasks.checkClaimRef(claim);
    return this.#mutate('releaseClaim', ref, options, async (tx) => tasks.taskFromRow(await tasks.releaseClaim(tx, ref)));
  }

  async complete(claim: ClaimRef, result?: unknown, options?: Mutation): Promise<Task> {
    const ref = tasks.checkClaimRef(claim);
    return this.#mutate('complete', { ref, result }, options, async (tx) => tasks.taskFromRow(((await tasks.completeTasks(tx, [{ ref, result }])) as tasks.TaskRow[])[0]!));
  }

  async completeMany(items: Array<ClaimRef & { result?: unknown }>, options?: Mutation): Promise<Task[]> {
    if (!Array.isArray(items) || items.length === 0) throw invalid('completeMany needs a non-empty array of claims');
    const checked = items.map((item) => ({ ref: tasks.checkClaimRef(item), result: item.result }));
    const made = await this.#mutate('completeMany', checked, options, async (tx) => {
      const done = await tasks.completeTasks(tx, checked);
      return Array.isArray(done) ? done.map(tasks.taskFromRow) : done;
    });
    // Many tasks are read after the commit, outside the write lock.
    return Array.isArray(made) ? made : this.#read((tx) => tasks.tasksByIds(tx, made.ids));
  }

  async fail(claim: ClaimRef, error: string, options: Mutation & { retryInMs?: number } = {}): Promise<Task> {
    const ref = tasks.checkClaimRef(claim);
    requireString('error', error, { max: MAX_TEXT_LENGTH });
    const explicit = options.retryInMs === undefined ? undefined : requireInt('retryInMs', options.retryInMs);
    return this.#mutate('fail', { ref, error, explicit }, options, async (tx) => {
      return tasks.taskFromRow(await tasks.failTask(tx, ref, error, (attempts) => explicit ?? tasks.retryDelay(attempts, this.#retry)));
    });
  }

  async cancel(id: number, options: Mutation & { version?: number; reason?: string } = {}): Promise<Task> {
    const reason = optionalReason(options.reason, 'cancelled');
    return this.#mutate('cancel', { id, version: options.version, reason }, options, async (tx) => tasks.taskFromRow(await tasks.cancelTask(tx, id, options.version, reason)));
  }

  // --- budgets ----------------------------------------------------------

  async setBudget(spec: BudgetSpec): Promise<BudgetStatus> {
    return this.#mutate('setBudget', spec, spec, (tx) => budgets.setBudget(tx, spec));
  }

  async removeBudget(scope: BudgetScope, options?: Mutation): Promise<void> {
    return this.#mutate('removeBudget', scope, options, (tx) => budgets.removeBudget(tx, scope));
  }

  async report(usage: UsageReport): Promise<UsageResult> {
    const u = budgets.checkUsage(usage);
    return this.#mutate('report', u, usage, (tx) => budgets.recordUsage(tx, u.agent, u.model, u.prompt, u.completion));
  }

  async budgetStatus(scope?: BudgetScope): Promise<BudgetStatus[]> {
    return this.#read((tx) => budgets.budgetStatus(tx, scope));
  }

  async usage(options: { since?: number } = {}): Promise<UsageTotals> {
    const since = optionalInt('since', options.since, 0);
    return this.#read((tx) => budgets.usageTotals(tx, since));
  }

  async reserve(options: ReserveOptions): Promise<Reservation> {
    if (typeof options !== 'object' || options === null) throw invalid('reserve needs { agent, estimate }');
    const agent = requireString('agent', options.agent, { max: MAX_NAME_LENGTH });
    const model = options.model === undefined ? null : requireString('model', options.model, { max: MAX_NAME_LENGTH });
    const estimate = requireInt('estimate', options.estimate, { min: 1 });
    const ttlMs = optionalInt('ttlMs', options.ttlMs, DEFAULT_RESERVATION_MS, { min: 1 });
    return this.#mutate('reserve', { agent, model, estimate, ttlMs }, options, (tx) => budgets.reserve(tx, agent, model, estimate, ttlMs));
  }

  async commitReservation(reservationId: string, actual: { promptTokens: number; completionTokens: number }, options?: Mutation): Promise<UsageResult> {
    if (typeof actual !== 'object' || actual === null) throw invalid('commit needs the actual { promptTokens, completionTokens }');
    const prompt = requireInt('promptTokens', actual.promptTokens);
    const completion = requireInt('completionTokens', actual.completionTokens);
    return this.#mutate('commitReservation', { reservationId, prompt, completion }, options, (tx) => budgets.commitReservation(tx, reservationId, prompt, completion));
  }

  async cancelReservation(reservationId: string, options?: Mutation): Promise<void> {
    return this.#mutate('cancelReservation', reservationId, options, (tx) => budgets.cancelReservation(tx, reservationId));
  }

  async resetBudget(scope?: BudgetScope, options?: Mutation): Promise<void> {
    return this.#mutate('resetBudget', scope ?? null, options, (tx) => budgets.resetBudget(tx, scope));
  }

  // --- rate limits --------------------------------------------------------

  async setRateLimit(key: string, spec: RateLimitSpec): Promise<RateLimitStatus> {
    const k = requireString('key', key, { max: MAX_KEY_LENGTH });
    const { rate, burst } = limits.checkSpec(spec?.rate, spec?.burst);
    return this.#mutate('setRateLimit', { k, rate, burst }, spec, (tx) => limits.setRateLimit(tx, k, rate, burst));
  }

  async take(key: string, options: RateTakeOptions = {}): Promise<RateTakeResult> {
    const k = requireString('key', key, { max: MAX_KEY_LENGTH });
    const cost = options.cost ?? 1;
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost <= 0) throw invalid(`cost must be a number > 0, not ${String(cost)}`);
    const spec = options.rate !== undefined || options.burst !== undefined ? limits.checkSpec(options.rate, options.burst) : undefined;
    const maxWait = options.wait ? requireTimeout('timeoutMs', options.timeoutMs, Infinity) : null;
    options.signal?.throwIfAborted();
    const result = await this.#mutate('take', { k, cost, spec, maxWait }, options, async (tx) => {
      if (spec !== undefined) await limits.setRateLimit(tx, k, spec.rate, spec.burst);
      return limits.take(tx, k, cost, maxWait, null);
    });
    if (result.granted && result.waitedMs > 0) {
      try {
        await sleep(result.waitedMs, options.signal);
      } catch (error) {
        await this.store.write((tx) => limits.refund(tx, k, cost)).catch(() => undefined);
        throw error;
      }
    }
    return result;
  }

  async rateLimitStatus(key?: string): Promise<RateLimitStatus[]> {
    return this.#read((tx) => limits.rateStatus(tx, key));
  }

  // --- events -------------------------------------------------------------

  async events(query: EventQuery = {}): Promise<BatonEvent[]> {
    const checked = checkEventQuery(query);
    return this.#read((tx) => readEvents(tx, checked));
  }

  async publish(event: PublishOptions): Promise<BatonEvent> {
    if (typeof event !== 'object' || event === null) throw invalid('publish needs { type, data? }');
    const type = requireString('type', event.type, { max: MAX_NAME_LENGTH });
    if (!EVENT_TYPE_PATTERN.test(type)) throw invalid(`type must be dotted words like "build.finished", got ${JSON.stringify(type)}`);
    const key = event.key === undefined || event.key === null ? null : requireString('key', event.key, { max: MAX_KEY_LENGTH });
    const actor = event.actor === undefined || event.actor === null ? null : requireString('actor', event.actor, { max: MAX_NAME_LENGTH });
    const data = event.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('data must be an object');
    return this.#mutate('publish', { type, key, actor, data }, event, async (tx) => {
      const seq = await emit(tx, type, key, actor, data);
      return { seq, at: tx.now, type, key, actor, data };
    });
  }

  subscribe(handler: (event: BatonEvent) => void, query: EventQuery = {}): Subscription {
    return follow(this.#db, handler, checkSubscription(handler, query), this.#subscriptions);
  }
}
