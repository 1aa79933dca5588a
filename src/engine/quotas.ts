// Quotas (docs/quotas.md): at most N tasks claimed at once by one agent (the
// name its sessions registered under), at most M leases held by one session,
// at most K unfinished tasks in the project's queue. A row with agent '' is
// the project-wide limit; a row naming an agent overrides it for that agent.
//
// Each check runs in the transaction of the request it guards (claim,
// claimByIds, a lease's grant, addTasks), so what it counts is what the
// request would add to: a request over the quota is refused whole with
// QUOTA_EXCEEDED. Only those requests raise a count; everything else (a
// completion, a release, a requeue, an expiry) lowers or keeps it, so a
// quota that held when each request committed holds at every moment.
//
// Cost: with no quota of a kind, its check is a look at this process's copy
// of the quota rows (StoreTx.memo), refreshed from the store every
// QUOTA_CACHE_MS and at once by a setQuota here; with one, it reads the
// limit that applies and makes one indexed count. On PostgreSQL (READ
// COMMITTED) the count is made under a lock of the quota (and agent, or
// session): two transactions cannot both count before either adds.
import type { QuotaName, QuotaRow, QuotaStatus, SetQuotaOptions } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { MAX_NAME_LENGTH, MAX_QUOTA_LIMIT, QUOTA_CACHE_MS, QUOTA_NAMES, QUOTA_USAGE_TOP } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { invalid, requireInt, requireOneOf, requireString } from './validate.ts';

/** The project-wide row's agent. */
const PROJECT = '';
const MEMO_KEY = 'quotas';

interface QuotaDbRow {
  [column: string]: unknown;
  quota: QuotaName;
  agent: string;
  limit_value: number;
  updated_at: number;
}

/** Each quota set, with its limits by agent ('' the project-wide one). */
type Limits = Map<QuotaName, Map<string, number>>;

interface Cached {
  at: number;
  limits: Limits;
}

export interface CheckedQuota {
  quota: QuotaName;
  /** '' for the project-wide limit. */
  agent: string;
  limit: number | null;
}

// --- argument checks, made before the transaction -----------------------

export function checkSetQuota(options: SetQuotaOptions): CheckedQuota {
  if (typeof options !== 'object' || options === null) throw invalid('setQuota needs { quota, limit, agent? }');
  const quota = requireOneOf('quota', options.quota, QUOTA_NAMES);
  const agent = options.agent === undefined ? PROJECT : requireString('agent', options.agent, { max: MAX_NAME_LENGTH });
  if (agent !== PROJECT && quota === 'queued-tasks') throw invalid('quota queued-tasks is the whole queue\'s: it takes no agent');
  if (options.limit === undefined) throw invalid(`setQuota ${quota} needs a limit (a whole number, or null to remove it)`);
  const limit = options.limit === null ? null : requireInt('limit', options.limit, { min: 0, max: MAX_QUOTA_LIMIT });
  return { quota, agent, limit };
}

// --- the rows, cached per store in this process ------------------------------

async function readLimits(tx: StoreTx): Promise<Limits> {
  const limits: Limits = new Map();
  for (const row of await tx.all<QuotaDbRow>('quotaList')) {
    const byAgent = limits.get(row.quota) ?? new Map<string, number>();
    byAgent.set(row.agent, Number(row.limit_value));
    limits.set(row.quota, byAgent);
  }
  return limits;
}

/** Whether any limit of this quota is set: from the cached rows, read again once they are QUOTA_CACHE_MS old. */
async function isSet(tx: StoreTx, quota: QuotaName): Promise<boolean> {
  const cached = tx.memo?.get(MEMO_KEY) as Cached | undefined;
  const at = performance.now();
  if (cached !== undefined && at - cached.at < QUOTA_CACHE_MS) return cached.limits.has(quota);
  const limits = await readLimits(tx);
  tx.memo?.set(MEMO_KEY, { at, limits } satisfies Cached);
  return limits.has(quota);
}

/** Drops this process's copy: the next check reads the rows again (after a setQuota here). */
export function forgetLimits(tx: StoreTx): void {
  tx.memo?.delete(MEMO_KEY);
}

interface Use {
  [column: string]: unknown;
  /** The limit that applies as the store has it now (the agent's own, else the project's); null: none. */
  limit_value: number | null;
  /** The use now. */
  n: number;
  /** The session's agent (leases). */
  agent?: string;
}

/** One statement: the limit that applies and the use now (undefined: no such session). */
async function use(tx: StoreTx, query: 'quotaClaimsOfAgent' | 'quotaLeasesOfSession' | 'quotaQueuedTasks', params: Record<string, string> = {}): Promise<{ limit: number | null; used: number; agent?: string } | undefined> {
  const row = await tx.get<Use>(query, params);
  if (row === undefined) return undefined;
  return { limit: row.limit_value === null ? null : Number(row.limit_value), used: Number(row.n), ...(row.agent === undefined ? {} : { agent: row.agent }) };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function exceeded(quota: QuotaName, limit: number, used: number, who: { agent?: string; sessionId?: string }, message: string): BatonError {
  return new BatonError('QUOTA_EXCEEDED', message, { details: { quota, limit, used, ...who } });
}

// --- the checks, inside the request's transaction ---------------------------------

/**
 * How many of the n tasks asked for the session's agent may claim now: n, or
 * fewer where the quota leaves less room (claim(n) returns up to n). With
 * `whole` (claimByIds: all or nothing), or no room at all, it refuses.
 */
export async function claimRoom(tx: StoreTx, session: { id: string; name: string }, n: number, whole: boolean): Promise<number> {
  if (!(await isSet(tx, 'claims-per-agent'))) return n;
  const agent = session.name;
  await tx.lock(`quota:claims-per-agent:${agent}`);
  const { limit, used } = (await use(tx, 'quotaClaimsOfAgent', { agent }))!;
  if (limit === null) return n;
  const room = limit - used;
  if (room >= n) return n;
  if (room > 0 && !whole) return room;
  const asked = whole ? ` and asked for ${n} more` : '';
  throw exceeded('claims-per-agent', limit, used, { agent }, `quota claims-per-agent for agent ${JSON.stringify(agent)} is ${limit}: it holds ${plural(used, 'claim')}${asked}; nothing was claimed`);
}

/**
 * Whether a lease for the session may be granted now. Over the quota: a
 * handoff (a release granting the lease to a waiter in its own transaction)
 * is told why, and passes over the waiter, which then asks for itself and is
 * refused; an acquire is refused with QUOTA_EXCEEDED.
 */
export async function leaseQuota(tx: StoreTx, request: { key: string; sessionId: string | null }, handedOff: boolean): Promise<string | null> {
  const { sessionId } = request;
  if (sessionId === null || !(await isSet(tx, 'leases-per-session'))) return null;
  await tx.lock(`quota:leases-per-session:${sessionId}`);
  const found = await use(tx, 'quotaLeasesOfSession', { sessionId });
  // No such session: the acquire itself refuses it.
  if (found === undefined || found.limit === null || found.used < found.limit) return null;
  const { limit, used, agent } = found;
  const error = exceeded(
    'leases-per-session',
    limit,
    used,
    { agent: agent!, sessionId },
    `quota leases-per-session for session ${sessionId} (agent ${JSON.stringify(agent)}) is ${limit}: it holds ${plural(used, 'lease')}; ${JSON.stringify(request.key)} was not acquired`,
  );
  if (handedOff) return error.message;
  throw error;
}

/** Refuses a batch of `adding` tasks that would take the queue past queued-tasks: none of it is added. */
export async function checkQueued(tx: StoreTx, adding: number): Promise<void> {
  if (!(await isSet(tx, 'queued-tasks'))) return;
  await tx.lock('quota:queued-tasks');
  const { limit, used } = (await use(tx, 'quotaQueuedTasks'))!;
  if (limit === null || used + adding <= limit) return;
  throw exceeded(
    'queued-tasks',
    limit,
    used,
    {},
    `quota queued-tasks is ${limit}: the queue holds ${plural(used, 'unfinished task')} and ${adding} more ${adding === 1 ? 'was' : 'were'} asked; none was added`,
  );
}

// --- setting and listing ---------------------------------------------------------

function rowOf(q: CheckedQuota, updatedAt: number): QuotaRow {
  return { quota: q.quota, agent: q.agent === PROJECT ? null : q.agent, limit: q.limit, updatedAt };
}

export async function setQuota(tx: StoreTx, q: CheckedQuota): Promise<QuotaRow> {
  forgetLimits(tx);
  const data = { quota: q.quota, agent: q.agent === PROJECT ? null : q.agent, limit: q.limit };
  if (q.limit === null) {
    const { changes } = await tx.run('quotaDelete', { quota: q.quota, agent: q.agent });
    if (changes > 0) await emit(tx, 'quota.removed', q.quota, null, data);
  } else {
    tx.defer('quotaUpsert', { quota: q.quota, agent: q.agent, limit: q.limit, now: tx.now });
    await emit(tx, 'quota.set', q.quota, null, data);
  }
  return rowOf(q, tx.now);
}

export async function listQuotas(tx: StoreTx): Promise<QuotaStatus[]> {
  const limits = await readLimits(tx);
  const limitOf = (quota: QuotaName, agent: string | null): number | null => {
    const byAgent = limits.get(quota);
    return (agent === null ? undefined : byAgent?.get(agent)) ?? byAgent?.get(PROJECT) ?? null;
  };
  const top = { limit: QUOTA_USAGE_TOP };
  const claims = await tx.all<{ agent: string; n: number }>('quotaClaimsByAgent', top);
  const leases = await tx.all<{ session_id: string; agent: string; n: number }>('quotaLeasesBySession', top);
  const usage: Record<QuotaName, QuotaStatus['usage']> = {
    'claims-per-agent': claims.map((r) => ({ agent: r.agent, sessionId: null, used: Number(r.n), limit: limitOf('claims-per-agent', r.agent) })),
    'leases-per-session': leases.map((r) => ({ agent: r.agent, sessionId: r.session_id, used: Number(r.n), limit: limitOf('leases-per-session', r.agent) })),
    'queued-tasks': [{ agent: null, sessionId: null, used: (await use(tx, 'quotaQueuedTasks'))!.used, limit: limitOf('queued-tasks', null) }],
  };
  return QUOTA_NAMES.map((quota) => ({
    quota,
    limit: limits.get(quota)?.get(PROJECT) ?? null,
    agents: [...(limits.get(quota) ?? new Map<string, number>())].filter(([agent]) => agent !== PROJECT).map(([agent, limit]) => ({ agent, limit })),
    usage: usage[quota],
  }));
}
