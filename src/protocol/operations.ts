// The daemon's protocol: one entry per Coordinator method and per daemon
// operation, each routed at POST /v1/<name>. An entry says how the client
// turns a call into the body that travels, and how the daemon turns that body
// back into the call: both typed against the Coordinator interface and the
// body schemas (bodies.ts), so a method added, renamed or reshaped without its
// entry fails the type check. The server, the client, the embedded checks and
// the OpenAPI document all read this table. No zod here: a client that only
// sends loads none.
import type { ClaimRef, Coordinator, LeaseRef } from '../coordinator.ts';
import { DEFAULT_ACQUIRE_TIMEOUT_MS } from '../limits.ts';
import type { RequestBody } from './bodies.ts';
import type { DaemonOperations } from './daemon-operations.ts';

/** Coordinator methods that run on the caller's side, never as one request. */
type LocalMethod = 'withLease' | 'subscribe' | 'kvWatch' | 'close';
export type OperationName = Exclude<keyof Coordinator, LocalMethod> | keyof DaemonOperations;
type Served = Coordinator & DaemonOperations;
export type Args<K extends OperationName> = Parameters<Served[K]>;
export type Result<K extends OperationName> = Awaited<ReturnType<Served[K]>>;

export interface Operation<K extends OperationName> {
  summary: string;
  /** Mutations go through the single writer (and its admission limit) and take an Idempotency-Key. */
  mutation: boolean;
  /**
   * For calls that may wait (acquire; take with wait): how long, so the
   * client's deadline grows by it, and the daemon sets no request deadline and
   * stops the wait when the client hangs up.
   */
  waitMs?: (...args: Args<K>) => number;
  /** The client's side: a call's arguments as the body that travels. */
  toBody(...args: Args<K>): RequestBody<K>;
  /** The daemon's side: the body as the call. */
  call(coordinator: Coordinator, body: RequestBody<K>, context: CallContext): Promise<Result<K>>;
}

/** What the daemon hands each call beside its Coordinator. */
export interface CallContext {
  /** Aborted when the client hangs up: a wait (acquire, take) stops at once. */
  signal: AbortSignal;
  /** The daemon's own operations (files, git). */
  daemon: DaemonOperations;
}

/** An options object as it travels: `signal` and undefined fields never do. */
function sent<T extends object>(options: T | undefined): Omit<T, 'signal'> {
  // No prototype: an own "__proto__" key (from JSON.parse) is copied as a field, for the daemon to refuse, not made the prototype.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (typeof options === 'object' && options !== null) {
    for (const [k, v] of Object.entries(options)) if (k !== 'signal' && v !== undefined) out[k] = v;
  }
  return out as Omit<T, 'signal'>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A lease (or claim) passed whole, as acquire (or claim) returned it, travels as its reference. */
const leaseRef = (l: LeaseRef): LeaseRef => (isRecord(l) ? { key: l.key, token: l.token } : l);
const claimRef = (c: ClaimRef): ClaimRef => (isRecord(c) ? { taskId: c.taskId, token: c.token } : c);
const present = <T extends object>(name: keyof T & string, value: unknown): Partial<T> => (value === undefined ? {} : ({ [name]: value } as Partial<T>));

const M = true;
const R = false;

export const operations: { [K in OperationName]: Operation<K> } = {
  // leases
  acquire: {
    summary: 'Acquire a lease on a key, waiting up to timeoutMs in arrival order.', mutation: M,
    waitMs: (_key, o) => o?.timeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
    toBody: (key, o) => ({ ...sent(o), key }),
    call: (c, { key, ...o }, { signal }) => c.acquire(key, { ...o, signal }),
  },
  renew: { summary: 'Extend a held lease.', mutation: M, toBody: (lease, o) => ({ ...sent(o), lease: leaseRef(lease) }), call: (c, { lease, ...o }) => c.renew(lease, o) },
  release: { summary: 'Release a lease by its token.', mutation: M, toBody: (lease, o) => ({ ...sent(o), lease: leaseRef(lease) }), call: (c, { lease, ...o }) => c.release(lease, o) },
  forceRelease: { summary: 'Administrative: end every hold on a key (or the one with token).', mutation: M, toBody: (key, o) => ({ ...sent(o), key }), call: (c, { key, ...o }) => c.forceRelease(key, o) },
  checkLease: { summary: 'Refuse with STALE_TOKEN or LEASE_EXPIRED unless the lease is held now.', mutation: R, toBody: (lease) => leaseRef(lease), call: (c, lease) => c.checkLease(lease) },
  getLease: { summary: 'Holders and waiters of a key.', mutation: R, toBody: (key) => ({ key }), call: (c, { key }) => c.getLease(key) },
  listLeases: { summary: 'Every held lease, optionally under a key prefix.', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.listLeases(o) },

  // sessions
  register: {
    summary: 'Register an agent or process; returns its session.', mutation: M, toBody: (o) => sent(o),
    // The daemon's process is not the client's: the client heartbeats (and attaches) itself, and no pid means none.
    call: (c, o) => c.register({ ...o, autoHeartbeat: false, pid: o.pid ?? null }),
  },
  heartbeat: { summary: 'Keep a session alive.', mutation: M, toBody: (sessionId) => ({ sessionId }), call: (c, { sessionId }) => c.heartbeat(sessionId) },
  endSession: { summary: 'End a session: its leases are released and its claims requeued.', mutation: M, toBody: (sessionId, o) => ({ ...sent(o), sessionId }), call: (c, { sessionId, ...o }) => c.endSession(sessionId, o) },
  getSession: { summary: 'One session.', mutation: R, toBody: (sessionId) => ({ sessionId }), call: (c, { sessionId }) => c.getSession(sessionId) },
  listSessions: { summary: 'Live sessions (or all).', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.listSessions(o) },

  // tasks
  addTask: { summary: 'Add a task.', mutation: M, toBody: (spec, o) => ({ ...sent(o), spec }), call: (c, { spec, ...o }) => c.addTask(spec, o) },
  addTasks: { summary: 'Add tasks in one transaction.', mutation: M, toBody: (specs, o) => ({ ...sent(o), specs }), call: (c, { specs, ...o }) => c.addTasks(specs, o) },
  getTask: { summary: 'One task.', mutation: R, toBody: (id) => ({ id }), call: (c, { id }) => c.getTask(id) },
  listTasks: { summary: 'Tasks, filtered.', mutation: R, toBody: (filter) => sent(filter), call: (c, filter) => c.listTasks(filter) },
  taskCounts: { summary: 'How many tasks are in each state.', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.taskCounts(o) },
  updateTask: {
    summary: 'Change a task (version-checked).', mutation: M,
    toBody: (id, version, patch, o) => ({ ...sent(o), id, version, patch }), call: (c, { id, version, patch, ...o }) => c.updateTask(id, version, patch, o),
  },
  removeTask: { summary: 'Remove a task (version-checked).', mutation: M, toBody: (id, version, o) => ({ ...sent(o), id, version }), call: (c, { id, version, ...o }) => c.removeTask(id, version, o) },
  reorderTask: {
    summary: 'Move a task: new priority and/or before/after another.', mutation: M,
    toBody: (id, version, to, o) => ({ ...sent(o), id, version, to }), call: (c, { id, version, to, ...o }) => c.reorderTask(id, version, to, o),
  },
  claim: { summary: 'Claim up to n ready tasks (priority, then FIFO).', mutation: M, toBody: (sessionId, o) => ({ ...sent(o), sessionId }), call: (c, { sessionId, ...o }) => c.claim(sessionId, o) },
  claimByIds: {
    summary: 'Claim these tasks, all or nothing.', mutation: M,
    toBody: (sessionId, ids, o) => ({ ...sent(o), sessionId, ids }), call: (c, { sessionId, ids, ...o }) => c.claimByIds(sessionId, ids, o),
  },
  renewClaim: { summary: 'Extend a claim.', mutation: M, toBody: (claim, o) => ({ ...sent(o), claim: claimRef(claim) }), call: (c, { claim, ...o }) => c.renewClaim(claim, o) },
  releaseClaim: { summary: 'Give a claimed task back (no attempt counted).', mutation: M, toBody: (claim, o) => ({ ...sent(o), claim: claimRef(claim) }), call: (c, { claim, ...o }) => c.releaseClaim(claim, o) },
  complete: {
    summary: 'Complete a claimed task.', mutation: M,
    toBody: (claim, result, o) => ({ ...sent(o), claim: claimRef(claim), ...present('result', result) }), call: (c, { claim, result, ...o }) => c.complete(claim, result, o),
  },
  completeMany: {
    summary: 'Complete many claims in one transaction, all or nothing.', mutation: M,
    toBody: (items, o) => ({ ...sent(o), items: Array.isArray(items) ? items.map((i) => (isRecord(i) ? { ...claimRef(i), ...present('result', i.result), ...present('artifacts', i.artifacts) } : i)) : items }),
    call: (c, { items, ...o }) => c.completeMany(items, o),
  },
  fail: {
    summary: 'Fail a claimed task: retried with backoff until maxAttempts, then dead.', mutation: M,
    toBody: (claim, error, o) => ({ ...sent(o), claim: claimRef(claim), error }), call: (c, { claim, error, ...o }) => c.fail(claim, error, o),
  },
  cancel: { summary: 'Cancel a task.', mutation: M, toBody: (id, o) => ({ ...sent(o), id }), call: (c, { id, ...o }) => c.cancel(id, o) },

  // approvals (docs/approvals.md): deciding needs the approver scope (token-scopes.ts)
  approveTask: { summary: 'Approve a task awaiting approval: it becomes ready (or blocked).', mutation: M, toBody: (id, o) => ({ ...sent(o), id }), call: (c, { id, ...o }) => c.approveTask(id, o) },
  rejectTask: { summary: 'Reject a task awaiting approval: it ends, rejected.', mutation: M, toBody: (id, o) => ({ ...sent(o), id }), call: (c, { id, ...o }) => c.rejectTask(id, o) },
  setApprovalPolicy: { summary: "Set or remove a queue's approval policy (every task added to it needs approval).", mutation: M, toBody: (spec) => sent(spec), call: (c, spec) => c.setApprovalPolicy(spec) },
  approvalPolicies: { summary: 'The queues whose tasks need approval.', mutation: R, toBody: () => ({}), call: (c) => c.approvalPolicies() },

  // token budgets
  setBudget: { summary: 'Create or change a token budget.', mutation: M, toBody: (spec) => sent(spec), call: (c, spec) => c.setBudget(spec) },
  removeBudget: { summary: 'Remove a budget.', mutation: M, toBody: (scope, o) => ({ ...sent(o), scope }), call: (c, { scope, ...o }) => c.removeBudget(scope, o) },
  report: { summary: 'Record token usage after a call.', mutation: M, toBody: (usage) => sent(usage), call: (c, usage) => c.report(usage) },
  budgetStatus: { summary: 'Budgets, used against limit.', mutation: R, toBody: (scope) => present('scope', scope), call: (c, { scope }) => c.budgetStatus(scope) },
  usage: { summary: 'Usage totals by agent and model.', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.usage(o) },
  reserve: { summary: 'Reserve an estimate before a call; BUDGET_EXCEEDED if it would overrun.', mutation: M, toBody: (o) => sent(o), call: (c, o) => c.reserve(o) },
  commitReservation: {
    summary: 'Replace a reservation by the actual usage.', mutation: M,
    toBody: (reservationId, actual, o) => ({ ...sent(o), reservationId, actual }), call: (c, { reservationId, actual, ...o }) => c.commitReservation(reservationId, actual, o),
  },
  cancelReservation: {
    summary: 'Drop a reservation.', mutation: M,
    toBody: (reservationId, o) => ({ ...sent(o), reservationId }), call: (c, { reservationId, ...o }) => c.cancelReservation(reservationId, o),
  },
  resetBudget: {
    summary: "Start a budget's period (or all budgets') from zero.", mutation: M,
    toBody: (scope, o) => ({ ...sent(o), ...present('scope', scope) }), call: (c, { scope, ...o }) => c.resetBudget(scope, o),
  },

  // quotas (docs/quotas.md)
  setQuota: { summary: 'Set a quota (project-wide or one agent\'s); limit null removes it.', mutation: M, toBody: (o) => sent(o), call: (c, o) => c.setQuota(o) },
  listQuotas: { summary: 'Every quota with its limits and its use now.', mutation: R, toBody: () => ({}), call: (c) => c.listQuotas() },

  // rate limits
  setRateLimit: { summary: 'Create or change a rate limit.', mutation: M, toBody: (key, spec) => ({ ...sent(spec), key }), call: (c, { key, ...spec }) => c.setRateLimit(key, spec) },
  take: {
    summary: 'Take from a rate limit; with wait, wait in line.', mutation: M,
    waitMs: (_key, o) => (o?.wait ? (o.timeoutMs ?? Infinity) : 0),
    toBody: (key, o) => ({ ...sent(o), key }),
    call: (c, { key, ...o }, { signal }) => c.take(key, { ...o, signal }),
  },
  rateLimitStatus: { summary: 'Rate limits and what is available now.', mutation: R, toBody: (key) => present('key', key), call: (c, { key }) => c.rateLimitStatus(key) },

  // events and maintenance
  events: { summary: 'Events after a sequence number (for a stream, GET /v1/events).', mutation: R, toBody: (query) => sent(query), call: (c, query) => c.events(query) },
  publish: { summary: 'Append an event of your own to the log (and to every stream).', mutation: M, toBody: (event) => sent(event), call: (c, event) => c.publish(event) },
  sweep: { summary: 'Expire lapsed leases, claims and sessions now.', mutation: M, toBody: () => ({}), call: (c) => c.sweep() },

  // release requests
  requestRelease: { summary: "Ask a key's holders to release it; each is told in its inbox.", mutation: M, toBody: (key, o) => ({ ...sent(o), key }), call: (c, { key, ...o }) => c.requestRelease(key, o) },
  answerRelease: { summary: "A holder's answer to a release request: declined, or released once it let go.", mutation: M, toBody: (id, o) => ({ ...sent(o), id }), call: (c, { id, ...o }) => c.answerRelease(id, o) },
  // A read, although it may answer requests that are due (as the sweeper would): asking twice is harmless.
  releaseRequests: { summary: 'Release requests, newest first.', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.releaseRequests(o) },

  // messages between agents (docs/messages.md)
  sendMessage: { summary: 'Send a message to an agent, several, the holders of a key, or every live agent.', mutation: M, toBody: (m) => sent(m), call: (c, m) => c.sendMessage(m) },
  inbox: { summary: "An agent's inbox, oldest first (reading it marks nothing).", mutation: R, toBody: (agent, o) => ({ ...sent(o), agent }), call: (c, { agent, ...o }) => c.inbox(agent, o) },
  readMessages: { summary: 'Mark messages read and return them.', mutation: M, toBody: (agent, ids, o) => ({ ...sent(o), agent, ids }), call: (c, { agent, ids, ...o }) => c.readMessages(agent, ids, o) },
  ackMessages: { summary: 'Acknowledge messages (idempotent); answers how many were newly acknowledged.', mutation: M, toBody: (agent, ids, o) => ({ ...sent(o), agent, ids }), call: (c, { agent, ids, ...o }) => c.ackMessages(agent, ids, o) },

  // shared state (docs/shared-state.md); kvWatch is local: a subscription to the kv. events
  kvGet: { summary: "A shared-state key's entry (value, revisions, lease), or null.", mutation: R, toBody: (key) => ({ key }), call: (c, { key }) => c.kvGet(key) },
  kvPut: {
    summary: 'Set a shared-state key; with expectRevision, compare-and-swap (0: only if absent).', mutation: M,
    toBody: (key, value, o) => ({ ...sent(o), ...present('lease', o?.lease === undefined ? undefined : leaseRef(o.lease)), key, value }),
    call: (c, { key, value, ...o }) => c.kvPut(key, value, o),
  },
  kvDelete: { summary: 'Delete a shared-state key; with expectRevision, only at that revision.', mutation: M, toBody: (key, o) => ({ ...sent(o), key }), call: (c, { key, ...o }) => c.kvDelete(key, o) },
  kvList: { summary: 'Shared-state entries by key prefix, with the revision of the read.', mutation: R, toBody: (o) => sent(o), call: (c, o) => c.kvList(o) },

  // credentials: the daemon is the broker, and hands out access tokens, never the refresh token.
  // A read in the protocol, although it may refresh: asking twice is harmless, and the broker refreshes once for everyone.
  credential: {
    summary: "A current credential for a model provider (an API key, or an OAuth access token refreshed near expiry by one process for all).",
    mutation: R,
    toBody: (provider, o) => ({ ...sent(o), provider }),
    call: (c, { provider, ...o }) => c.credential(provider, o),
  },

  // the daemon's own: files under the project root, enforced at write time; in the worktree named, if any
  writeFile: { summary: 'Write a file atomically; needs a live exclusive path lease covering it.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.writeFile(b) },
  deleteFile: { summary: 'Delete a file; needs a covering exclusive path lease.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.deleteFile(b) },
  renameFile: { summary: 'Rename a file; the lease must cover both paths.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.renameFile(b) },
  readFile: { summary: 'Read a file under the project root (at most 8 MiB).', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.readFile(b) },
  // A read in the protocol (no idempotency key, no 429) although it takes the git lease: `git status` rewrites .git/index.
  gitStatus: { summary: 'git status --porcelain=v1 while holding the git lease.', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.gitStatus(b) },
  gitCommit: { summary: 'Stage the given paths and commit while holding the git lease.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.gitCommit(b) },

  // the daemon's own: webhooks it delivers (docs/webhooks.md)
  webhookAdd: { summary: 'Add a webhook endpoint; answers its signing secret, this once.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookAdd(b) },
  webhookList: { summary: 'Webhook endpoints (never their secrets).', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookList(b) },
  webhookRemove: { summary: 'Remove a webhook endpoint and its deliveries.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookRemove(b) },
  webhookRotate: { summary: "A new signing secret for an endpoint; the old one also signs for overlapMs.", mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookRotate(b) },
  webhookTest: { summary: 'Send a webhook.test delivery to an endpoint now; answers its first outcome.', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookTest(b) },
  webhookDeliveries: { summary: 'Webhook deliveries, newest first, with their attempts.', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.webhookDeliveries(b) },

  // the daemon's own: the projects it serves (docs/projects.md); creating and archiving need an admin credential
  projectList: { summary: 'The projects this daemon serves that the caller may reach.', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.projectList(b) },
  projectShow: { summary: 'One project, with its counts of leases, sessions and tasks.', mutation: R, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.projectShow(b) },
  projectCreate: { summary: 'Create a project: a store of its own on this daemon (admin).', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.projectCreate(b) },
  projectArchive: { summary: 'Archive a project: its requests are refused, its state is kept (admin).', mutation: M, toBody: (b) => b, call: (_c, b, { daemon }) => daemon.projectArchive(b) },
};

export const operationNames = Object.keys(operations) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(operations, name);
}
