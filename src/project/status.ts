// The one-screen status of a project's coordination state, the same whether
// it is read through the daemon or from the embedded store.
import type { BudgetStatus, Coordinator, Lease, QuotaStatus, RateLimitStatus, Session, TaskStatus } from '../coordinator.ts';

/** One readiness check of a daemon (server/health.ts): GET /readyz and `baton status` show them. */
export interface HealthCheck {
  name: string;
  ok: boolean;
  /** Why it failed, or what it saw. */
  message: string;
}

export interface DaemonInfo {
  pid: number;
  version: string;
  startedAt: number;
  socket: string | null;
  listen: string | null;
  connections: number;
  writer: { batches: number; operations: number; largestBatch: number; queued: number; maxQueue: number };
  rssBytes: number;
  durability: 'normal' | 'full';
  /** The database: 'sqlite' and its file, or 'postgres' and user@host:port/database. */
  store: { kind: 'sqlite' | 'postgres'; where: string };
  /** This daemon as a node of the database: its id, and how long after its last heartbeat its sessions end. */
  node: { id: string; ttlMs: number };
  /** What `baton serve --max-body`, `--max-connections` and `--request-timeout` set. */
  limits: { maxBodyBytes: number; maxConnections: number; requestTimeoutMs: number };
  /** The readiness checks, as GET /readyz?verbose lists them. */
  readiness: HealthCheck[];
}

export interface ProjectStatus {
  at: number;
  /** null when read from the embedded store (no daemon runs). */
  daemon: DaemonInfo | null;
  sessions: Session[];
  leases: Lease[];
  tasks: Record<TaskStatus, number>;
  budgets: BudgetStatus[];
  rateLimits: RateLimitStatus[];
  /** Each quota with its limits and use (absent from a daemon before quotas). */
  quotas?: QuotaStatus[];
  /** Through the daemon: the seq of the last event committed (0: none), where a stream "from now" starts. */
  lastEventSeq?: number;
}

export async function collectStatus(c: Coordinator, daemon: DaemonInfo | null = null): Promise<ProjectStatus> {
  const [sessions, leases, tasks, budgets, rateLimits, quotas] = await Promise.all([c.listSessions(), c.listLeases(), c.taskCounts(), c.budgetStatus(), c.rateLimitStatus(), c.listQuotas()]);
  return { at: Date.now(), daemon, sessions, leases, tasks, budgets, rateLimits, quotas };
}
