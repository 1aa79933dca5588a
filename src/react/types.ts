// The shapes the hooks hand out. Types only: the records themselves are the
// daemon's (src/coordinator.ts), so a field added there reaches the page with
// no change here.
import type { BatonEvent, BudgetStatus, Lease, QuotaStatus, RateLimitStatus, Session, Task } from '../coordinator.ts';
import type { TokenScope } from '../limits.ts';
import type { ProjectStatus } from '../project/status.ts';

/**
 * How events reach the page: 'connecting' before the first stream opened,
 * 'live' while one is open, 'reconnecting' after it dropped (retrying),
 * 'polling' after repeated failures (reading POST /v1/events on a timer and
 * trying the stream again now and then).
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling';

export interface WhoAmI {
  principal: string;
  readOnly: boolean;
  /** What it may do (src/protocol/token-scopes.ts); absent from daemons before scopes. */
  scopes?: readonly TokenScope[];
}

/** GET /v1/status: what `baton status --json` prints. */
export type DaemonStatus = ProjectStatus;

/** One immutable snapshot: the same object until something in it changes. */
export interface ProtocolState {
  readonly connection: ConnectionState;
  /** The data below is frozen while paused; events keep arriving and are applied on resume. */
  readonly paused: boolean;
  /** The seq of the last event applied (or where the stream started); 0 before it is known. */
  readonly seq: number;
  readonly whoami: WhoAmI | null;
  readonly status: DaemonStatus | null;
  readonly leases: readonly Lease[];
  /** Live sessions (ended ones are left out). */
  readonly sessions: readonly Session[];
  /** Tasks of every state, at most TASKS_PER_STATE of each. */
  readonly tasks: readonly Task[];
  readonly taskCounts: Readonly<Record<string, number>>;
  readonly budgets: readonly BudgetStatus[];
  readonly rateLimits: readonly RateLimitStatus[];
  /** Each quota (docs/quotas.md) with its limits and use now. */
  readonly quotas: readonly QuotaStatus[];
  /** The last MAX_EVENTS events, ascending seq. */
  readonly events: readonly BatonEvent[];
  /** Date.now() when the last refetch of a list completed; 0 before. */
  readonly syncedAt: number;
  /** The latest failure of the stream or of a fetch, for display; null once things work again. */
  readonly error: string | null;
}

export interface BatonActions {
  /** POST /v1/<operation> with this body; the result, or a BatonError with the daemon's code. */
  call<R = unknown>(operation: string, body: object): Promise<R>;
  /** Freeze the snapshot's data (the events keep being collected). */
  pause(): void;
  resume(): void;
  /** Refetch every list now; resolves when each fetch started after the call has ended. */
  sync(): Promise<void>;
}

/** The lists the store keeps, each refetched by itself. */
export type ListName = 'whoami' | 'status' | 'leases' | 'sessions' | 'tasks' | 'taskCounts' | 'budgets' | 'rateLimits' | 'quotas';

/** Counters for tests and debugging: what the store is doing, not part of the state. */
export interface StoreStats {
  /** Providers, subscribers and event handlers holding the store now. */
  references: number;
  /** useSyncExternalStore listeners now. */
  listeners: number;
  /** useProtocolEvent handlers now. */
  eventHandlers: number;
  /** Event-handler subscriptions ever made (a handler that resubscribed on each render would grow this). */
  eventSubscriptions: number;
  /** Event streams ever opened (requests to GET /v1/events). */
  streamsOpened: number;
  /** Polls of POST /v1/events ever made. */
  polls: number;
  /** Fetches of each list ever started. */
  fetches: Record<ListName, number>;
}
