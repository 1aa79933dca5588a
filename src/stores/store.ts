// The boundary between the engine (rules) and a store (persistence). A store
// runs named queries: each backend supplies its own SQL for every name in
// QueryName, in one file, so the engine holds no SQL and no backend-only
// semantics. Two backends: SQLite (stores/sqlite/: one write lock serialises
// every write) and PostgreSQL (stores/postgres/: READ COMMITTED, so a
// read-then-write takes the lock that makes it safe, StoreTx.lock or a row
// lock in its SQL). Both pass the same conformance suite (test/engine/conformance.ts).

/** 'normal': survives any process crash; 'full': also power loss (see docs/engine.md). */
export type Durability = 'normal' | 'full';

export type Params = Record<string, string | number | null>;
export type Row = Record<string, unknown>;

export const QueryNames = [
  'fenceGet', 'fenceSet', 'leaseInsert', 'leaseByWaiter', 'leaseGet', 'leaseByKey', 'leasesConflictCandidates', 'leaseList',
  'leaseDelete', 'leaseRenew', 'leasesExpired', 'leasesBySession', 'waiterInsert', 'waiterTouch',
  'waiterDelete', 'waitersBefore', 'waitersFor', 'waitersByKey', 'waitersStale', 'sessionInsert', 'sessionGet', 'sessionList',
  'sessionListAll', 'sessionHeartbeat', 'sessionEnd', 'sessionsLapsed', 'sessionsOnHost', 'taskInsert', 'taskGet',
  'taskList', 'taskCounts', 'taskUpdate', 'taskDelete', 'taskClaimReady', 'taskReadyIds', 'taskClaimIds', 'taskGetMany', 'taskClaimStates', 'taskComplete', 'taskCompleteMany', 'taskDependencyDone', 'taskDependenciesDone', 'tasksClaimExpired', 'tasksClaimedBy', 'taskSamePriority',
  'taskSetPosition', 'depInsert', 'dependentsOf', 'depDeleteTask', 'budgetUpsert',
  'budgetGet', 'budgetDelete', 'budgetList', 'budgetUsageGet', 'budgetUsageUpsert', 'budgetUsageReset',
  'budgetUsageResetAll', 'usageInsert', 'usageByAgent', 'usageByModel', 'reservationInsert', 'reservationGet',
  'reservationDelete', 'reservationsSum', 'reservationsExpire', 'rateGet', 'rateUpsert', 'rateSetTokens', 'rateList',
  'eventInsert', 'eventsTasksClaimed', 'eventsTasksCompleted', 'eventsAfter', 'eventsPruneAge', 'eventsPruneCount', 'eventsMaxSeq', 'idemGet', 'idemForget', 'idemInsert',
  'idemPrune', 'metaGet', 'metaSet', 'nodeInsert', 'nodeHeartbeat', 'nodeEnd', 'nodeList', 'sessionSetNode', 'sessionsOfLapsedNodes',
  // webhooks (src/engine/webhooks.ts): endpoints, and the durable outbox of their deliveries
  'webhookInsert', 'webhookGet', 'webhookList', 'webhookDelete', 'webhookSetCursor', 'webhookRotate', 'webhookFailing', 'webhookHealthy',
  'webhookDisable', 'deliveryInsert', 'deliveryGet', 'deliveryList', 'deliveryClaim', 'deliveryRecord', 'deliveryNextDue',
  'deliveriesOfEndpointDelete', 'deliveriesPrune',
  // release requests (src/engine/release-requests.ts)
  'releaseInsert', 'releaseGet', 'releasePending', 'releaseSetThread', 'releaseDue', 'releaseAnswer', 'releaseList', 'releasePrune',
  // messages between agents (src/engine/messages.ts): messages, and each recipient's inbox entry
  'messageInsert', 'messageSetThread', 'recipientsInsert', 'messageNamesKnown', 'messageKnownNames', 'inboxList', 'inboxGet',
  'inboxMarkRead', 'inboxMarkAcked', 'recipientsPruneAcked', 'messagesPruneOrphans',
  // shared state (src/engine/kv.ts)
  'kvGet', 'kvList', 'kvUpsert', 'kvDelete', 'kvStale', 'kvEventInsert',
  // quotas (src/engine/quotas.ts)
  'quotaList', 'quotaUpsert', 'quotaDelete', 'quotaClaimsOfAgent', 'quotaLeasesOfSession', 'quotaQueuedTasks', 'quotaClaimsByAgent', 'quotaLeasesBySession',
  // approvals (src/engine/task-approvals.ts)
  'taskApprovalSet', 'approvalPolicyGet', 'approvalPolicyList', 'approvalPolicyInsert', 'approvalPolicyDelete',
  // task artifacts (src/engine/task-artifacts.ts)
  'artifactsInsert', 'artifactsOf', 'artifactsOfMany', 'artifactTaskIds', 'artifactsDeleteTask',
  // projects (src/server/projects.ts): the home store's list of the projects a daemon serves
  'projectList', 'projectGet', 'projectHome', 'projectInsert', 'projectArchive',
] as const;

export type QueryName = (typeof QueryNames)[number];

export interface RunResult {
  changes: number;
  lastId: number;
}

/** One transaction. `now` is the store's clock, read once when the transaction began. */
export interface StoreTx {
  readonly now: number;
  /**
   * True when a write transaction keeps every other writer out until it
   * commits (SQLite's one write lock): work that can wait until after the
   * commit should. False where writers wait only for the rows and locks they
   * share (PostgreSQL): reading in the transaction is then cheaper than a
   * second transaction after it.
   */
  readonly exclusive: boolean;
  /**
   * One map per store for the life of this process, the same in each of its
   * transactions: what the engine caches of a store (the quota rows,
   * src/engine/quotas.ts). Absent: the engine caches nothing.
   */
  readonly memo?: Map<string, unknown>;
  get<T extends Row>(query: QueryName, params?: Params): Promise<T | undefined>;
  all<T extends Row>(query: QueryName, params?: Params): Promise<T[]>;
  run(query: QueryName, params?: Params): Promise<RunResult>;
  /**
   * Runs a statement whose result nobody needs, without waiting for it:
   * statements still run in the order they were issued, and a failure fails
   * the transaction (at the next statement, or at commit). On PostgreSQL it
   * travels with the statements after it, saving a round trip each.
   */
  defer(query: QueryName, params?: Params): void;
  /**
   * The next fencing token after `last`. Tokens never go backwards for the
   * life of the store, even if a crash rolls back committed transactions.
   */
  nextToken(last: number): Promise<number>;
  /**
   * Serialises this write transaction with every other that locks the same
   * resource, until it ends: what a read-then-write needs when rows that do
   * not exist yet decide it (a lease's key, an idempotency key). Resources
   * are names ('lease:<key>', 'budgets'); take several in a fixed order
   * (sortedResources). A no-op where every write is serialised already
   * (SQLite) and in read transactions.
   */
  lock(resource: string): Promise<void>;
}

export interface TxOptions {
  /** Contention lasting past this monotonic deadline (performance.now()) fails with LOCK_TIMEOUT. */
  deadline?: number;
  signal?: AbortSignal;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface Store {
  /** Which backend, for messages and docs: 'sqlite' (the only one today). */
  readonly kind: string;
  /** Runs fn in one write transaction; contention is retried, never surfaced. */
  write<T>(fn: (tx: StoreTx) => Promise<T>, options?: TxOptions): Promise<T>;
  /**
   * Group commit: runs each fn in its own savepoint inside one write
   * transaction and commits once. A fn that throws is rolled back alone; the
   * others commit. Results come back in order, after the commit.
   */
  writeBatch?(fns: Array<(tx: StoreTx) => Promise<unknown>>, options?: TxOptions): Promise<Array<Settled<unknown>>>;
  /**
   * Resolves when a commit moves the change counter past `seen`, or after
   * maxMs. A store that is told of commits (the daemon's single writer) wakes
   * waiters at once; without it, waiters poll changeCounter. `first`: a
   * waiter a commit may have handed something to (a lease): it is woken
   * before the commit's own operations are answered.
   */
  waitForCommit?(seen: number, maxMs: number, signal?: AbortSignal, first?: boolean): Promise<void>;
  /** Runs fn against one consistent snapshot. */
  read<T>(fn: (tx: StoreTx) => Promise<T>, options?: TxOptions): Promise<T>;
  /** A value that changes whenever another connection commits: waiters poll it cheaply. */
  changeCounter(): Promise<number>;
  /** The store's clock. */
  now(): Promise<number>;
  close(): Promise<void>;
}
