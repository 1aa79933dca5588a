// What the store keeps besides events, and how each part is read: the
// operation (or GET) behind each list, which event types change which lists,
// and how often each is read again when no event says so (heartbeats and
// renewals emit none, and a rate limit's bucket refills with time).
import type { BatonEvent, BudgetStatus, Lease, QuotaStatus, RateLimitStatus, Session, Task } from '../coordinator.ts';
import { TASK_STATES } from '../limits.ts';
import { callOperation, getJson, type Endpoint } from './http.ts';
import type { DaemonStatus, ListName, WhoAmI } from './types.ts';

/** The tasks kept of each state (listTasks orders by priority, then position). */
export const TASKS_PER_STATE = 2_000;

export const ALL_LISTS: readonly ListName[] = ['whoami', 'status', 'leases', 'sessions', 'tasks', 'taskCounts', 'budgets', 'rateLimits', 'quotas'];

export interface Lists {
  whoami: WhoAmI | null;
  status: DaemonStatus | null;
  leases: readonly Lease[];
  sessions: readonly Session[];
  tasks: readonly Task[];
  taskCounts: Readonly<Record<string, number>>;
  budgets: readonly BudgetStatus[];
  rateLimits: readonly RateLimitStatus[];
  quotas: readonly QuotaStatus[];
}

/** The lists an event changes, by its type's first word. Unknown types (a user's `publish`) change none. */
const byPrefix: Record<string, readonly ListName[]> = {
  lease: ['leases', 'status'],
  agent: ['sessions', 'leases', 'status'],
  session: ['sessions', 'leases', 'status'],
  task: ['tasks', 'taskCounts', 'status'],
  budget: ['budgets', 'status'],
  tokens: ['budgets', 'status'],
  ratelimit: ['rateLimits', 'status'],
  quota: ['quotas'],
};

export function listsChangedBy(event: BatonEvent): readonly ListName[] {
  const dot = event.type.indexOf('.');
  return byPrefix[dot < 0 ? event.type : event.type.slice(0, dot)] ?? [];
}

/** The least time between two fetches of a list. */
export function minIntervalMs(name: ListName): number {
  return name === 'status' ? 2_000 : 500;
}

/** Lists read again on a timer, and how often: what changes without an event. */
export const PERIODIC: readonly (readonly [ListName, number])[] = [
  ['sessions', 5_000], // heartbeats
  ['leases', 5_000], // renewals
  ['rateLimits', 5_000], // buckets refill
  ['status', 5_000],
  ['tasks', 15_000], // claim renewals
  ['budgets', 15_000], // periods roll over
  ['quotas', 5_000], // use changes with every claim and lease: read on a timer, not per event
];

type Readers = { [K in ListName]: (endpoint: Endpoint, signal: AbortSignal) => Promise<Lists[K]> };

export const readers: Readers = {
  whoami: async (e, signal) => {
    try {
      return await getJson<WhoAmI>(e, '/v1/whoami', signal);
    } catch (error) {
      // A daemon without the route (older, or the unix socket's API alone) has no principal to show.
      if ((error as { code?: string }).code === 'NOT_FOUND') return null;
      throw error;
    }
  },
  status: (e, signal) => getJson<DaemonStatus>(e, '/v1/status', signal),
  leases: (e, signal) => callOperation<Lease[]>(e, 'listLeases', {}, signal),
  sessions: (e, signal) => callOperation<Session[]>(e, 'listSessions', {}, signal),
  tasks: async (e, signal) => {
    // One read per state: a single list would be all done tasks on a busy queue.
    const parts = await Promise.all(TASK_STATES.map((status) => callOperation<Task[]>(e, 'listTasks', { status, limit: TASKS_PER_STATE }, signal)));
    return parts.flat();
  },
  taskCounts: (e, signal) => callOperation<Record<string, number>>(e, 'taskCounts', {}, signal),
  budgets: (e, signal) => callOperation<BudgetStatus[]>(e, 'budgetStatus', {}, signal),
  rateLimits: (e, signal) => callOperation<RateLimitStatus[]>(e, 'rateLimitStatus', {}, signal),
  quotas: (e, signal) => callOperation<QuotaStatus[]>(e, 'listQuotas', {}, signal),
};

/** Keys for structural sharing of each list's records. */
export const keys = {
  leases: (l: Lease) => `${l.key}\0${l.token}`,
  sessions: (s: Session) => s.id,
  tasks: (t: Task) => t.id,
  budgets: (b: BudgetStatus) => b.scope,
  rateLimits: (r: RateLimitStatus) => r.key,
  quotas: (q: QuotaStatus) => q.quota,
};
