// What a scoped API token may do: the one table of which scopes grant each
// operation and each route besides them. `full` grants everything; `read`
// every plain read (an operation that is no mutation, except gitStatus, which
// takes the git lease, and credential, which hands out a secret); `tasks` and
// `files` the parts of the API an agent of that kind works in, reads and
// changes alike:
//
//   tasks  the queue (add, claim, complete, fail, ...) and sessions: a worker
//          registers, heartbeats, claims under its session and attaches it
//   files  leases and path reservations, the daemon's file operations, git,
//          and sessions (a lease may be bound to one)
//   tasks and files both: shared state (kv), which agents of either kind coordinate by
//   credentials  a model provider's current credential (an access token or API
//          key; never the refresh token): give it to an agent beside tasks or files
//   approver  approve or reject tasks awaiting approval, and set the queues'
//          approval policies (docs/approvals.md): a person's token, never an
//          agent's; `tasks` cannot decide (an agent could approve its own work)
//
// Budgets, rate limits, the event log, the status, forceRelease, sweep, webhooks,
// the MCP endpoint and signing every dashboard out need
// `full` (their plain reads `read`). A token's scopes add up: `tasks,read`
// may also watch the events. The type below makes a new operation's entry
// required.
import type { TokenScope } from '../limits.ts';
import { operations, type OperationName } from './operations.ts';

type Area = readonly ('tasks' | 'files' | 'credentials' | 'approver')[];
const T: Area = ['tasks'];
const F: Area = ['files'];
const SESSION: Area = ['tasks', 'files'];
const APPROVER: Area = ['approver'];
const NONE: Area = [];

/** Which of tasks, files, credentials and approver grant each operation (full always does; read does a plain read). */
const areas: { [K in OperationName]: Area } = {
  acquire: F, renew: F, release: F, checkLease: F, getLease: F, listLeases: F,
  forceRelease: NONE,
  register: SESSION, heartbeat: SESSION, endSession: SESSION, getSession: SESSION, listSessions: SESSION,
  addTask: T, addTasks: T, getTask: T, listTasks: T, taskCounts: T, updateTask: T, removeTask: T, reorderTask: T,
  claim: T, claimByIds: T, renewClaim: T, releaseClaim: T, complete: T, completeMany: T, fail: T, cancel: T,
  approveTask: APPROVER, rejectTask: APPROVER, setApprovalPolicy: APPROVER, approvalPolicies: ['tasks', 'approver'],
  setBudget: NONE, removeBudget: NONE, report: NONE, budgetStatus: NONE, usage: NONE, reserve: NONE,
  commitReservation: NONE, cancelReservation: NONE, resetBudget: NONE,
  setQuota: NONE, listQuotas: NONE,
  setRateLimit: NONE, take: NONE, rateLimitStatus: NONE,
  events: NONE, publish: NONE, sweep: NONE,
  requestRelease: F, answerRelease: F, releaseRequests: F,
  sendMessage: SESSION, inbox: SESSION, readMessages: SESSION, ackMessages: SESSION,
  kvGet: SESSION, kvPut: SESSION, kvDelete: SESSION, kvList: SESSION,
  credential: ['credentials'],
  writeFile: F, deleteFile: F, renameFile: F, readFile: F, gitStatus: F, gitCommit: F,
  webhookAdd: NONE, webhookList: NONE, webhookRemove: NONE, webhookRotate: NONE, webhookTest: NONE, webhookDeliveries: NONE,
  // Any credential may list and show the projects it reaches; creating and archiving need an admin one besides (server/project-access.ts).
  projectList: SESSION, projectShow: SESSION, projectCreate: NONE, projectArchive: NONE,
};

/**
 * Reads in the protocol that the scope read does not grant: gitStatus takes
 * the git lease (git status rewrites .git/index); credential hands out a model
 * provider's secret, which an onlooker (a monitor, a read-only dashboard) must
 * not get; webhookList and webhookDeliveries show where the project's events
 * go (a URL may carry a receiver's token in its path): webhooks are `full`'s.
 */
const NOT_PLAIN_READS: ReadonlySet<OperationName> = new Set(['gitStatus', 'credential', 'webhookList', 'webhookDeliveries']);

/** What a request may do besides an operation, and which scopes grant it besides full. */
const routes = {
  /** GET /v1/events: every event, of every part. */
  events: ['read'],
  /** GET /v1/status: the whole picture. */
  status: ['read'],
  /** GET /v1/sessions/:id/attach: a session's life bound to the stream (a worker of either kind). */
  attach: ['tasks', 'files'],
  /** A mounted route (/v1/mcp): its tools reach every part. */
  mounted: [],
  /** POST /v1/ui/link: the dashboard shows every part (read-only unless full). */
  dashboardLink: ['read'],
  /** POST /v1/ui/sign-out: ends every dashboard session. */
  dashboardSignOut: [],
} as const satisfies Record<string, readonly TokenScope[]>;

export type ScopedRoute = keyof typeof routes;

/** An operation a read-only principal may call. */
export function isPlainRead(name: OperationName): boolean {
  return !operations[name].mutation && !NOT_PLAIN_READS.has(name);
}

/** The scopes that grant an operation or a route, `full` first. */
export function scopesGranting(action: { operation: OperationName } | { route: ScopedRoute }): TokenScope[] {
  if ('route' in action) return ['full', ...routes[action.route]];
  return ['full', ...(isPlainRead(action.operation) ? (['read'] as const) : []), ...areas[action.operation]];
}

/** Whether a principal with `scopes` may do it. */
export function scopeAllows(scopes: readonly TokenScope[], action: { operation: OperationName } | { route: ScopedRoute }): boolean {
  return scopesGranting(action).some((s) => scopes.includes(s));
}
