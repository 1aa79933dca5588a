// The shapes the dashboard shows, as the protocol defines them (types only: no
// runtime code crosses from the Node side into the browser bundle).
export type { BatonEvent, BudgetStatus, Lease, LeaseInfo, LeaseWaiter, RateLimitStatus, Session, Task, TaskStatus, UsageTotals } from '../../src/coordinator.ts';
export type { DaemonInfo, ProjectStatus } from '../../src/project/status.ts';
export { TASK_STATES, PATH_PREFIX } from '../../src/limits.ts';
