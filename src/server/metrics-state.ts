// The shared state /metrics reports (leases held, tasks by state, budgets),
// read from the store at scrape time and reused for METRICS_STATE_CACHE_MS:
// however many scrapers ask, the store is read at most once a second, and
// never on a request's path. Several daemons over one PostgreSQL database
// report the same numbers: aggregate them with max(), not sum().
import type { BudgetStatus, Coordinator, TaskStatus } from '../coordinator.ts';
import { LEASE_MODES, METRICS_STATE_CACHE_MS, TASK_STATES } from '../limits.ts';

type LeaseMode = (typeof LEASE_MODES)[number];

/** Which budgets a row sums: the scope's kind, never its agent or model name (those are unbounded). */
export type BudgetScopeKind = 'global' | 'agent' | 'model' | 'agent_model';

export interface BudgetTotals {
  scope: BudgetScopeKind;
  period: BudgetStatus['period'];
  used: number;
  reserved: number;
  limit: number;
}

export interface StateSnapshot {
  leases: Record<LeaseMode, number>;
  tasks: Record<TaskStatus, number>;
  budgets: BudgetTotals[];
}

export function scopeKind(budget: Pick<BudgetStatus, 'agent' | 'model'>): BudgetScopeKind {
  if (budget.agent === null) return budget.model === null ? 'global' : 'model';
  return budget.model === null ? 'agent' : 'agent_model';
}

export async function readState(c: Coordinator): Promise<StateSnapshot> {
  const [leases, tasks, budgets] = await Promise.all([c.listLeases(), c.taskCounts(), c.budgetStatus()]);
  const held = Object.fromEntries(LEASE_MODES.map((m) => [m, 0])) as Record<LeaseMode, number>;
  for (const lease of leases) held[lease.mode]++;
  const sums = new Map<string, BudgetTotals>();
  for (const b of budgets) {
    const scope = scopeKind(b);
    const id = `${scope} ${b.period}`;
    const row = sums.get(id) ?? { scope, period: b.period, used: 0, reserved: 0, limit: 0 };
    row.used += b.used;
    row.reserved += b.reserved;
    row.limit += b.limit;
    sums.set(id, row);
  }
  return { leases: held, tasks: { ...(Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskStatus, number>), ...tasks }, budgets: [...sums.values()] };
}

/** One read at a time, its result reused while fresh; a failed read keeps the last snapshot (and says so). */
export class StateCache {
  readonly #read: () => Promise<StateSnapshot>;
  readonly #maxAgeMs: number;
  #last: { at: number; snapshot: StateSnapshot } | undefined;
  #reading: Promise<StateSnapshot | undefined> | undefined;
  /** Reads that failed (the store was unreachable): the metric says the state gauges are stale. */
  failures = 0;

  constructor(read: () => Promise<StateSnapshot>, maxAgeMs = METRICS_STATE_CACHE_MS) {
    this.#read = read;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The snapshot, undefined if the store has never answered. */
  get(): Promise<StateSnapshot | undefined> {
    const last = this.#last;
    if (last !== undefined && performance.now() - last.at < this.#maxAgeMs) return Promise.resolve(last.snapshot);
    this.#reading ??= this.#read().then(
      (snapshot) => {
        this.#last = { at: performance.now(), snapshot };
        return snapshot;
      },
      () => {
        this.failures++;
        return this.#last?.snapshot;
      },
    ).finally(() => (this.#reading = undefined));
    return this.#reading;
  }
}
