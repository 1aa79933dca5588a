// The daemon's protocol: one entry per Coordinator method (plus the daemon's
// own file, git and status operations). Each names its route, how the JSON
// body maps onto the method's arguments, and the request and response
// schemas. The server, the client and the OpenAPI document all read this table.
import { any, arr, bool, int, nullable, num, obj, ref, str, type Schema } from './schema.ts';

export interface Operation {
  /** The Coordinator method (or daemon operation) name; the route is POST /v1/<name>. */
  name: string;
  summary: string;
  /** Mutations go through the single writer (and its admission limit) and take an Idempotency-Key. */
  mutation: boolean;
  /**
   * How body fields map onto positional arguments: a name takes that field,
   * '...' takes the remaining fields as one options object.
   */
  params: string[];
  body: Schema;
  result: Schema;
  /** The operation may wait (acquire, take with wait): no server-side request deadline. */
  waits?: boolean;
}

const key = str({ minLength: 1, maxLength: 1024, description: 'A resource key: repo, git, path:<glob>, any name.' });
const ms = (description: string): Schema => int({ minimum: 0, description });
const idem = str({ minLength: 1, maxLength: 256, description: 'Also accepted as the Idempotency-Key header.' });
const leaseRef = obj({ key, token: int({ minimum: 1 }) });
const worktree = str({ minLength: 1, maxLength: 4096, description: "The worktree to act in: the absolute path of its top level, a worktree of the daemon's repository. Default: the daemon's own." });
const claimRef = obj({ taskId: int({ minimum: 1 }), token: int({ minimum: 1 }) });
const taskStatus = str({ enum: ['ready', 'claimed', 'done', 'dead', 'cancelled', 'blocked'] });
const scope = obj({ 'agent?': str({ minLength: 1, maxLength: 256 }), 'model?': str({ minLength: 1, maxLength: 256 }) });
const taskSpec = obj({
  'queue?': str({ minLength: 1, maxLength: 256 }),
  title: str({ minLength: 1, maxLength: 4096 }),
  'payload?': any('Any JSON value.'),
  'priority?': int(),
  'dependsOn?': arr(int({ minimum: 1 })),
  'maxAttempts?': int({ minimum: 1 }),
  'runAt?': int({ minimum: 0, description: 'Not claimable before this time (ms since the epoch).' }),
});
const nothing: Schema = { type: 'null', description: 'No result.' };

export const components: Record<string, Schema> = {
  Lease: obj({ key, owner: str(), mode: str({ enum: ['exclusive', 'shared'] }), token: int(), acquiredAt: int(), expiresAt: nullable(int()), sessionId: nullable(str()) }),
  LeaseInfo: obj({
    key,
    holders: arr(ref('Lease')),
    waiters: arr(obj({ key, owner: str(), mode: str({ enum: ['exclusive', 'shared'] }), since: int() })),
  }),
  Session: obj({
    id: str(), name: str(), kind: str(), host: str(), pid: nullable(int()), labels: { type: 'object', additionalProperties: str() },
    startedAt: int(), heartbeatAt: int(), ttlMs: int(), endedAt: nullable(int()), endReason: nullable(str()),
  }),
  Task: obj({
    id: int(), queue: str(), title: str(), payload: any(), priority: int(), position: num(), status: taskStatus, runAt: int(),
    attempts: int(), maxAttempts: int(), dependsOn: arr(int()), reason: nullable(str()), result: any(), lastError: nullable(str()),
    claimedBy: nullable(str()), claimExpiresAt: nullable(int()), version: int(), createdAt: int(), updatedAt: int(),
  }),
  Claim: obj({ taskId: int(), task: ref('Task'), token: int(), expiresAt: int() }),
  BudgetStatus: obj({
    scope: str(), agent: nullable(str()), model: nullable(str()), period: str({ enum: ['none', 'daily', 'monthly'] }), periodStart: int(),
    limit: int(), used: int(), reserved: int(), remaining: int(), warning: bool(), exceeded: bool(),
  }),
  UsageResult: obj({ status: nullable(ref('BudgetStatus')), budgets: arr(ref('BudgetStatus')) }),
  Reservation: obj({ id: str(), agent: str(), model: nullable(str()), estimate: int(), expiresAt: int() }),
  UsageTotals: obj({
    byAgent: arr(obj({ agent: str(), promptTokens: int(), completionTokens: int(), total: int() })),
    byModel: arr(obj({ model: str(), promptTokens: int(), completionTokens: int(), total: int() })),
  }),
  RateLimitStatus: obj({ key, rate: num(), burst: num(), available: num() }),
  RateTakeResult: { anyOf: [obj({ granted: bool(), waitedMs: num() }), obj({ granted: bool(), retryAfterMs: num() })] },
  BatonEvent: obj({ seq: int(), at: int(), type: str(), key: nullable(str()), actor: nullable(str()), data: { type: 'object' } }),
  SweepResult: obj({ leasesExpired: int(), claimsExpired: int(), sessionsEnded: int(), eventsPruned: int() }),
  FileResult: obj({ path: str(), 'size?': int(), 'from?': str() }),
  Error: obj({ error: obj({ code: str(), message: str(), 'details?': { type: 'object' } }) }),
};

function op(name: string, summary: string, mutation: boolean, params: string[], body: Schema, result: Schema, waits = false): Operation {
  return { name, summary, mutation, params, body, result, ...(waits ? { waits } : {}) };
}

const M = true;
const R = false;

export const operations: Operation[] = [
  // leases
  op('acquire', 'Acquire a lease on a key, waiting up to timeoutMs in arrival order.', M, ['key', '...'], obj({
    key, owner: str({ minLength: 1, maxLength: 256 }), 'mode?': str({ enum: ['exclusive', 'shared'] }), 'ttlMs?': ms('Lease lifetime; 0 = none (session-bound only).'),
    'timeoutMs?': ms('0: fail at once with LOCKED.'), 'sessionId?': str({ maxLength: 64 }), 'idempotencyKey?': idem,
  }), ref('Lease'), true),
  op('renew', 'Extend a held lease.', M, ['lease', '...'], obj({ lease: leaseRef, 'ttlMs?': ms('New lifetime from now.'), 'idempotencyKey?': idem }), ref('Lease')),
  op('release', 'Release a lease by its token.', M, ['lease', '...'], obj({ lease: leaseRef, 'idempotencyKey?': idem }), nothing),
  op('forceRelease', 'Administrative: end every hold on a key (or the one with token).', M, ['key', '...'], obj({ key, 'token?': int({ minimum: 1 }), 'reason?': str({ maxLength: 1024 }), 'idempotencyKey?': idem }), int()),
  op('checkLease', 'Refuse with STALE_TOKEN or LEASE_EXPIRED unless the lease is held now.', R, ['...'], leaseRef, ref('Lease')),
  op('getLease', 'Holders and waiters of a key.', R, ['key'], obj({ key }), ref('LeaseInfo')),
  op('listLeases', 'Every held lease, optionally under a key prefix.', R, ['...'], obj({ 'prefix?': str({ maxLength: 1024 }) }), arr(ref('Lease'))),

  // sessions
  op('register', 'Register an agent or process; returns its session.', M, ['...'], obj({
    name: str({ minLength: 1, maxLength: 256 }), 'kind?': str({ maxLength: 256 }), 'host?': str({ maxLength: 256 }), 'pid?': nullable(int({ minimum: 1 })),
    'labels?': { type: 'object', additionalProperties: str() }, 'ttlMs?': int({ minimum: 100 }), 'autoHeartbeat?': bool('Ignored by the daemon: clients heartbeat.'), 'idempotencyKey?': idem,
  }), ref('Session')),
  op('heartbeat', 'Keep a session alive.', M, ['sessionId'], obj({ sessionId: str({ minLength: 1, maxLength: 64 }) }), ref('Session')),
  op('endSession', 'End a session: its leases are released and its claims requeued.', M, ['sessionId', '...'], obj({ sessionId: str({ minLength: 1, maxLength: 64 }), 'reason?': str({ maxLength: 1024 }), 'idempotencyKey?': idem }), nothing),
  op('getSession', 'One session.', R, ['sessionId'], obj({ sessionId: str({ minLength: 1, maxLength: 64 }) }), ref('Session')),
  op('listSessions', 'Live sessions (or all).', R, ['...'], obj({ 'includeEnded?': bool() }), arr(ref('Session'))),

  // tasks
  op('addTask', 'Add a task.', M, ['spec', '...'], obj({ spec: taskSpec, 'idempotencyKey?': idem }), ref('Task')),
  op('addTasks', 'Add tasks in one transaction.', M, ['specs', '...'], obj({ specs: arr(taskSpec, { minItems: 1, maxItems: 10_000 }), 'idempotencyKey?': idem }), arr(ref('Task'))),
  op('getTask', 'One task.', R, ['id'], obj({ id: int({ minimum: 1 }) }), ref('Task')),
  op('listTasks', 'Tasks, filtered.', R, ['...'], obj({ 'queue?': str({ maxLength: 256 }), 'status?': { anyOf: [taskStatus, arr(taskStatus)] }, 'limit?': int({ minimum: 1, maximum: 100_000 }) }), arr(ref('Task'))),
  op('taskCounts', 'How many tasks are in each state.', R, ['...'], obj({ 'queue?': str({ maxLength: 256 }) }), { type: 'object', additionalProperties: int() }),
  op('updateTask', 'Change a task (version-checked).', M, ['id', 'version', 'patch', '...'], obj({
    id: int({ minimum: 1 }), version: int({ minimum: 1 }),
    patch: obj({ 'title?': str({ minLength: 1, maxLength: 4096 }), 'payload?': any(), 'priority?': int(), 'maxAttempts?': int({ minimum: 1 }), 'runAt?': int({ minimum: 0 }) }),
    'idempotencyKey?': idem,
  }), ref('Task')),
  op('removeTask', 'Remove a task (version-checked).', M, ['id', 'version', '...'], obj({ id: int({ minimum: 1 }), version: int({ minimum: 1 }), 'idempotencyKey?': idem }), nothing),
  op('reorderTask', 'Move a task: new priority and/or before/after another.', M, ['id', 'version', 'to', '...'], obj({
    id: int({ minimum: 1 }), version: int({ minimum: 1 }), to: obj({ 'priority?': int(), 'before?': int({ minimum: 1 }), 'after?': int({ minimum: 1 }) }), 'idempotencyKey?': idem,
  }), ref('Task')),
  op('claim', 'Claim up to n ready tasks (priority, then FIFO).', M, ['sessionId', '...'], obj({
    sessionId: str({ minLength: 1, maxLength: 64 }), 'queue?': str({ maxLength: 256 }), 'n?': int({ minimum: 1, maximum: 10_000 }), 'leaseMs?': int({ minimum: 1 }), 'idempotencyKey?': idem,
  }), arr(ref('Claim'))),
  op('claimByIds', 'Claim these tasks, all or nothing.', M, ['sessionId', 'ids', '...'], obj({
    sessionId: str({ minLength: 1, maxLength: 64 }), ids: arr(int({ minimum: 1 }), { minItems: 1 }), 'leaseMs?': int({ minimum: 1 }), 'idempotencyKey?': idem,
  }), arr(ref('Claim'))),
  op('renewClaim', 'Extend a claim.', M, ['claim', '...'], obj({ claim: claimRef, 'leaseMs?': int({ minimum: 1 }), 'idempotencyKey?': idem }), ref('Claim')),
  op('releaseClaim', 'Give a claimed task back (no attempt counted).', M, ['claim', '...'], obj({ claim: claimRef, 'idempotencyKey?': idem }), ref('Task')),
  op('complete', 'Complete a claimed task.', M, ['claim', 'result', '...'], obj({ claim: claimRef, 'result?': any(), 'idempotencyKey?': idem }), ref('Task')),
  op('completeMany', 'Complete many claims in one transaction, all or nothing.', M, ['items', '...'], obj({
    items: arr(obj({ taskId: int({ minimum: 1 }), token: int({ minimum: 1 }), 'result?': any() }), { minItems: 1 }), 'idempotencyKey?': idem,
  }), arr(ref('Task'))),
  op('fail', 'Fail a claimed task: retried with backoff until maxAttempts, then dead.', M, ['claim', 'error', '...'], obj({
    claim: claimRef, error: str({ maxLength: 65_536 }), 'retryInMs?': int({ minimum: 0 }), 'idempotencyKey?': idem,
  }), ref('Task')),
  op('cancel', 'Cancel a task.', M, ['id', '...'], obj({ id: int({ minimum: 1 }), 'version?': int({ minimum: 1 }), 'reason?': str({ maxLength: 1024 }), 'idempotencyKey?': idem }), ref('Task')),

  // budgets
  op('setBudget', 'Create or change a token budget.', M, ['...'], obj({
    'agent?': str({ minLength: 1, maxLength: 256 }), 'model?': str({ minLength: 1, maxLength: 256 }), limit: int({ minimum: 0 }),
    'period?': str({ enum: ['none', 'daily', 'monthly'] }), 'warnPercent?': num({ minimum: 0, maximum: 100 }), 'idempotencyKey?': idem,
  }), ref('BudgetStatus')),
  op('removeBudget', 'Remove a budget.', M, ['scope', '...'], obj({ scope, 'idempotencyKey?': idem }), nothing),
  op('report', 'Record token usage after a call.', M, ['...'], obj({
    agent: str({ minLength: 1, maxLength: 256 }), model: str({ minLength: 1, maxLength: 256 }), promptTokens: int({ minimum: 0 }), completionTokens: int({ minimum: 0 }), 'idempotencyKey?': idem,
  }), ref('UsageResult')),
  op('budgetStatus', 'Budgets, used against limit.', R, ['scope'], obj({ 'scope?': scope }), arr(ref('BudgetStatus'))),
  op('usage', 'Usage totals by agent and model.', R, ['...'], obj({ 'since?': int({ minimum: 0 }) }), ref('UsageTotals')),
  op('reserve', 'Reserve an estimate before a call; BUDGET_EXCEEDED if it would overrun.', M, ['...'], obj({
    agent: str({ minLength: 1, maxLength: 256 }), 'model?': str({ minLength: 1, maxLength: 256 }), estimate: int({ minimum: 1 }), 'ttlMs?': int({ minimum: 1 }), 'idempotencyKey?': idem,
  }), ref('Reservation')),
  op('commitReservation', 'Replace a reservation by the actual usage.', M, ['reservationId', 'actual', '...'], obj({
    reservationId: str({ minLength: 1, maxLength: 64 }), actual: obj({ promptTokens: int({ minimum: 0 }), completionTokens: int({ minimum: 0 }) }), 'idempotencyKey?': idem,
  }), ref('UsageResult')),
  op('cancelReservation', 'Drop a reservation.', M, ['reservationId', '...'], obj({ reservationId: str({ minLength: 1, maxLength: 64 }), 'idempotencyKey?': idem }), nothing),
  op('resetBudget', "Start a budget's period (or all budgets') from zero.", M, ['scope', '...'], obj({ 'scope?': scope, 'idempotencyKey?': idem }), nothing),

  // rate limits
  op('setRateLimit', 'Create or change a rate limit.', M, ['key', '...'], obj({ key, rate: num({ exclusiveMinimum: 0 }), burst: num({ exclusiveMinimum: 0 }), 'idempotencyKey?': idem }), ref('RateLimitStatus')),
  op('take', 'Take from a rate limit; with wait, wait in line.', M, ['key', '...'], obj({
    key, 'cost?': num({ exclusiveMinimum: 0 }), 'wait?': bool(), 'timeoutMs?': ms('The longest wait accepted.'), 'rate?': num({ exclusiveMinimum: 0 }), 'burst?': num({ exclusiveMinimum: 0 }), 'idempotencyKey?': idem,
  }), ref('RateTakeResult'), true),
  op('rateLimitStatus', 'Rate limits and what is available now.', R, ['key'], obj({ 'key?': key }), arr(ref('RateLimitStatus'))),

  // events and maintenance
  op('events', 'Events after a sequence number (for a stream, GET /v1/events).', R, ['...'], obj({
    'after?': int({ minimum: 0 }), 'limit?': int({ minimum: 1, maximum: 100_000 }), 'types?': arr(str({ minLength: 1, maxLength: 256 })),
  }), arr(ref('BatonEvent'))),
  op('publish', 'Append an event of your own to the log (and to every stream).', M, ['...'], obj({
    type: str({ minLength: 1, maxLength: 256 }), 'key?': nullable(str({ maxLength: 1024 })), 'actor?': nullable(str({ maxLength: 256 })), 'data?': { type: 'object' }, 'idempotencyKey?': idem,
  }), ref('BatonEvent')),
  op('sweep', 'Expire lapsed leases, claims and sessions now.', M, [], obj({}), ref('SweepResult')),

  // the daemon's own: files under the project root, enforced at write time; in the worktree named, if any
  op('writeFile', 'Write a file atomically; needs a live exclusive path lease covering it.', M, ['...'], obj({
    path: str({ minLength: 1, maxLength: 4096 }), 'lease?': leaseRef, 'content?': str({ description: 'UTF-8 text.' }), 'base64?': str({ description: 'Binary content, base64.' }), 'actor?': str({ maxLength: 256 }), 'worktree?': worktree, 'idempotencyKey?': idem,
  }), ref('FileResult')),
  op('deleteFile', 'Delete a file; needs a covering exclusive path lease.', M, ['...'], obj({ path: str({ minLength: 1, maxLength: 4096 }), 'lease?': leaseRef, 'actor?': str({ maxLength: 256 }), 'worktree?': worktree, 'idempotencyKey?': idem }), ref('FileResult')),
  op('renameFile', 'Rename a file; the lease must cover both paths.', M, ['...'], obj({
    from: str({ minLength: 1, maxLength: 4096 }), to: str({ minLength: 1, maxLength: 4096 }), 'lease?': leaseRef, 'actor?': str({ maxLength: 256 }), 'worktree?': worktree, 'idempotencyKey?': idem,
  }), ref('FileResult')),
  op('readFile', 'Read a file under the project root (at most 8 MiB).', R, ['...'], obj({ path: str({ minLength: 1, maxLength: 4096 }), 'encoding?': str({ enum: ['utf8', 'base64'] }), 'worktree?': worktree }), obj({ path: str(), 'content?': str(), 'base64?': str(), size: int() })),
  op('gitStatus', 'git status --porcelain=v1 while holding the git lease.', R, ['...'], obj({ 'worktree?': worktree }), obj({ output: str() })),
  op('gitCommit', 'Stage the given paths and commit while holding the git lease.', M, ['...'], obj({
    message: str({ minLength: 1, maxLength: 65_536 }), 'paths?': arr(str({ minLength: 1, maxLength: 4096 })), 'owner?': str({ maxLength: 256 }), 'worktree?': worktree, 'idempotencyKey?': idem,
  }), obj({ output: str(), commit: nullable(str()) })),
];

export const operationsByName = new Map(operations.map((o) => [o.name, o]));

/** Body fields onto positional arguments, as `params` says. */
const namedParams = new WeakMap<Operation, Set<string>>();

export function argsFromBody(operation: Operation, body: Record<string, unknown>): unknown[] {
  let named = namedParams.get(operation);
  if (named === undefined) namedParams.set(operation, (named = new Set(operation.params.filter((p) => p !== '...'))));
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!named.has(k)) rest[k] = v;
  return operation.params.map((p) => (p === '...' ? rest : body[p]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Of a lease (or a claim) the caller passes whole, what identifies it. */
const leaseRefOf = (l: unknown): unknown => (isRecord(l) ? { key: l.key, token: l.token } : l);
const claimRefOf = (c: unknown): unknown => (isRecord(c) ? { taskId: c.taskId, token: c.token } : c);
const callShapes: Record<string, (args: unknown[]) => unknown[]> = {
  renew: ([lease, options]) => [leaseRefOf(lease), options],
  release: ([lease, options]) => [leaseRefOf(lease), options],
  checkLease: ([lease]) => [leaseRefOf(lease)],
  renewClaim: ([claim, options]) => [claimRefOf(claim), options],
  releaseClaim: ([claim, options]) => [claimRefOf(claim), options],
  complete: ([claim, result, options]) => [claimRefOf(claim), result, options],
  fail: ([claim, error, options]) => [claimRefOf(claim), error, options],
  completeMany: ([items, options]) => [
    Array.isArray(items) ? items.map((i) => (isRecord(i) ? { taskId: i.taskId, token: i.token, ...(i.result === undefined ? {} : { result: i.result }) } : i)) : items,
    options,
  ],
};

/**
 * A Coordinator call's arguments as they travel: a lease or claim passed whole
 * (as returned by acquire or claim) goes as its reference only.
 */
export function wireArgs(name: string, args: unknown[]): unknown[] {
  return callShapes[name]?.(args) ?? args;
}

/** Positional arguments onto a body (the client's side). `signal` never travels. */
export function bodyFromArgs(operation: Operation, args: unknown[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  operation.params.forEach((p, i) => {
    const value = args[i];
    if (p === '...') {
      if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) if (k !== 'signal' && v !== undefined) body[k] = v;
      }
    } else if (value !== undefined) {
      body[p] = value;
    }
  });
  return body;
}

/** The OpenAPI 3.1 document of the daemon's routes. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const errorResponse = { description: 'An error with a stable code.', content: { 'application/json': { schema: ref('Error') } } };
  for (const o of operations) {
    paths[`/v1/${o.name}`] = {
      post: {
        operationId: o.name,
        summary: o.summary,
        ...(o.mutation ? { parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: str() }] } : {}),
        requestBody: { required: true, content: { 'application/json': { schema: o.body } } },
        responses: {
          '200': { description: 'The result.', content: { 'application/json': { schema: o.result } } },
          '400': errorResponse, '401': errorResponse, '404': errorResponse, '409': errorResponse, '413': errorResponse, '423': errorResponse, '429': errorResponse,
        },
      },
    };
  }
  paths['/v1/events'] = {
    ...(paths['/v1/events'] as object),
    get: {
      operationId: 'eventStream',
      summary: 'Server-sent events: `id:` is the event seq; resume with Last-Event-ID (or ?after=).',
      parameters: [
        { name: 'topics', in: 'query', required: false, schema: str({ description: 'Comma-separated type prefixes, e.g. lease.,task.' }) },
        { name: 'after', in: 'query', required: false, schema: int({ minimum: 0 }) },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: str() },
      ],
      responses: { '200': { description: 'text/event-stream of BatonEvent JSON objects.' } },
    },
  };
  paths['/v1/sessions/{id}/attach'] = {
    get: {
      operationId: 'attachSession',
      summary: 'Hold this stream open to bind the session to the connection: when it drops, the session ends at once.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: str() }],
      responses: { '200': { description: 'text/event-stream of heartbeats.' } },
    },
  };
  paths['/v1/status'] = { get: { operationId: 'status', summary: 'The daemon, sessions, leases, tasks by state, budgets, rate limits.', responses: { '200': { description: 'Status.' } } } };
  paths['/v1/health'] = { get: { operationId: 'health', summary: 'Liveness.', responses: { '200': { description: 'ok' } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'baton daemon', version, description: 'Every route maps one to one onto the Coordinator interface; errors carry the engine\'s codes.' },
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}
