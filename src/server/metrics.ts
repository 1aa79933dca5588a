// The daemon's Prometheus metrics (GET /metrics; docs/observability.md has
// the table). prom-client is loaded only when metrics are on, on a private
// registry (never the global one a host application may use). What requests
// show is counted here as they finish; the shared state (leases, tasks,
// budgets) is read from the store at scrape time (metrics-state.ts). Every
// label takes values from a fixed list: operation names, status codes, error
// codes, enumerations; never a key, a path, an agent or a session.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Coordinator } from '../coordinator.ts';
import type { ErrorCode } from '../errors.ts';
import { ClaimClock, type ClaimRefLike } from './metrics-claims.ts';
import { readState, StateCache } from './metrics-state.ts';

/** What the metrics read from the running daemon at scrape time. */
export interface MetricsSources {
  coordinator: Coordinator;
  writer: { readonly queued: number; readonly maxQueue: number };
  connections(): number;
  version: string;
}

/** One finished request, as the request path saw it. */
export interface FinishedRequest {
  /** A bounded label: the operation's name, or the route's (request-telemetry.ts). */
  operation: string;
  status: number;
  /** The error's code; undefined when it succeeded. */
  code: ErrorCode | undefined;
  seconds: number;
  /** The operation's checked body, and its result (when it succeeded). */
  body: Record<string, unknown> | undefined;
  result: unknown;
}

export type LeaseWaitOutcome = 'granted' | 'timeout' | 'aborted' | 'refused' | 'failed';
export type StreamKind = 'events' | 'attach';

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HOLD_SECONDS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

function leaseOutcome(code: ErrorCode | undefined): LeaseWaitOutcome {
  if (code === undefined) return 'granted';
  if (code === 'LOCK_TIMEOUT') return 'timeout';
  if (code === 'ABORTED') return 'aborted';
  if (code === 'LOCKED') return 'refused';
  return 'failed';
}

const isRef = (value: unknown): value is ClaimRefLike =>
  typeof value === 'object' && value !== null && typeof (value as ClaimRefLike).taskId === 'number' && typeof (value as ClaimRefLike).token === 'number';

export class DaemonMetrics {
  readonly contentType: string;
  readonly #registry: Registry;
  readonly #claims = new ClaimClock();
  readonly #duration: Histogram<'operation' | 'status'>;
  /** Labelled children by "operation status": prom-client hashes the labels on every call otherwise. */
  readonly #durationOf = new Map<string, { observe(v: number): void }>();
  readonly #errors: Counter<'operation' | 'code'>;
  readonly #fencing: Counter<'operation'>;
  readonly #rateRefusals: Counter<'operation'>;
  readonly #budgetRefusals: Counter<'operation'>;
  readonly #leaseWait: Histogram<'outcome'>;
  readonly #claimToComplete: Histogram;
  readonly #claimed: Counter;
  readonly #completed: Counter;
  readonly #retries: Counter;
  readonly #deadLetters: Counter;
  readonly #batchSize: Histogram;
  readonly #streams: Gauge<'stream'>;
  readonly #overflows: Counter;
  readonly #dropped: Counter;

  private constructor(prom: typeof import('prom-client'), sources: MetricsSources) {
    const registry = (this.#registry = new prom.Registry());
    this.contentType = registry.contentType;
    prom.collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> => new prom.Counter({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> =>
      new prom.Histogram({ name, help, buckets, labelNames, registers });

    new prom.Gauge({ name: 'baton_info', help: 'Always 1; the daemon\'s version as a label.', labelNames: ['version'], registers }).set({ version: sources.version }, 1);
    this.#duration = histogram('baton_request_duration_seconds', 'Requests by operation and HTTP status, from arrival to the answer (a stream: to its opening).', SECONDS, ['operation', 'status']);
    this.#errors = counter('baton_request_errors_total', 'Requests refused or failed, by operation and error code.', ['operation', 'code']);
    this.#fencing = counter('baton_fencing_refusals_total', 'Requests refused STALE_TOKEN: a lease or claim token that is no longer the current one.', ['operation']);
    this.#rateRefusals = counter('baton_rate_limit_refusals_total', 'Rate-limit takes not granted, and requests refused RATE_LIMITED.', ['operation']);
    this.#budgetRefusals = counter('baton_budget_refusals_total', 'Requests refused BUDGET_EXCEEDED.', ['operation']);
    this.#leaseWait = histogram('baton_lease_wait_seconds', 'Acquires by outcome (granted, timeout, aborted, refused: LOCKED with no wait, failed), with the time they took; a grant in the smallest buckets did not wait.', SECONDS, ['outcome']);
    this.#claimToComplete = histogram('baton_task_claim_to_complete_seconds', 'From a claim answered by this daemon to its completion through this daemon.', HOLD_SECONDS);
    this.#claimed = counter('baton_tasks_claimed_total', 'Tasks claimed through this daemon.');
    this.#completed = counter('baton_tasks_completed_total', 'Tasks completed through this daemon.');
    this.#retries = counter('baton_task_retries_total', 'Failed tasks put back to be tried again (fail through this daemon).');
    this.#deadLetters = counter('baton_task_dead_letters_total', 'Failed tasks that ran out of attempts and went dead (fail through this daemon).');
    this.#batchSize = histogram('baton_writer_batch_size', 'Writes committed per transaction by the single writer (1 each on PostgreSQL).', BATCH_SIZES);
    this.#streams = new prom.Gauge({ name: 'baton_sse_clients', help: 'Server-sent event streams open: events (GET /v1/events) and attach (a session bound to its stream).', labelNames: ['stream'], registers });
    this.#overflows = counter('baton_watcher_overflows_total', 'Times the file watcher had more changes than it could report (one fs.changed overflow event each).');
    this.#dropped = counter('baton_watcher_dropped_changes_total', 'File changes the watcher counted instead of reporting, in its overflows.');
    for (const stream of ['events', 'attach'] as const) this.#streams.set({ stream }, 0);

    const gauge = (name: string, help: string, read: () => number): void => {
      new prom.Gauge({ name, help, registers, collect() {
        this.set(read());
      } });
    };
    gauge('baton_writer_queue_depth', 'Writes queued for the writer (PostgreSQL: in flight).', () => sources.writer.queued);
    gauge('baton_writer_queue_limit', 'Writes queued at most before new ones are refused OVERLOADED (--max-queue).', () => sources.writer.maxQueue);
    gauge('baton_connections', 'Connections open to the daemon, on all its listeners.', () => sources.connections());
    gauge('baton_tracked_claims', 'Claims whose claim time this daemon remembers for baton_task_claim_to_complete_seconds.', () => this.#claims.size);

    const state = new StateCache(() => readState(sources.coordinator));
    gauge('baton_metrics_state_read_failures', 'Scrapes whose read of the store failed (the state gauges then show the last good read).', () => state.failures);
    const stateGauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: NonNullable<Awaited<ReturnType<StateCache['get']>>>) => void): void => {
      new prom.Gauge<L>({ name, help, labelNames, registers, async collect() {
        const snapshot = await state.get();
        if (snapshot === undefined) return;
        this.reset();
        fill(this, snapshot);
      } });
    };
    const shared = '(shared state, read from the store at most once a second: with several daemons on one database, aggregate with max())';
    stateGauge('baton_leases_held', `Leases held now, by mode ${shared}.`, ['mode'], (g, s) => {
      for (const [mode, n] of Object.entries(s.leases)) g.set({ mode }, n);
    });
    stateGauge('baton_tasks', `Tasks by state ${shared}.`, ['state'], (g, s) => {
      for (const [state, n] of Object.entries(s.tasks)) g.set({ state }, n);
    });
    for (const [field, what] of [['used', 'used in the current period'], ['reserved', 'reserved and not yet committed or cancelled'], ['limit', 'allowed per period']] as const) {
      stateGauge(`baton_budget_tokens_${field}`, `Budget tokens ${what}, summed over the budgets of each scope kind (global, agent, model, agent_model) and period ${shared}.`, ['scope', 'period'], (g, s) => {
        for (const b of s.budgets) g.set({ scope: b.scope, period: b.period }, b[field]);
      });
    }
  }

  /** Loads prom-client and registers every metric. */
  static async open(sources: MetricsSources): Promise<DaemonMetrics> {
    const prom = await import('prom-client');
    return new DaemonMetrics(prom, sources);
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }

  /** Counts what one request did. */
  finished(r: FinishedRequest): void {
    const id = `${r.operation} ${r.status}`;
    let child = this.#durationOf.get(id);
    if (child === undefined) this.#durationOf.set(id, (child = this.#duration.labels({ operation: r.operation, status: String(r.status) })));
    child.observe(r.seconds);
    if (r.code !== undefined) {
      this.#errors.inc({ operation: r.operation, code: r.code });
      if (r.code === 'STALE_TOKEN') this.#fencing.inc({ operation: r.operation });
      else if (r.code === 'RATE_LIMITED') this.#rateRefusals.inc({ operation: r.operation });
      else if (r.code === 'BUDGET_EXCEEDED') this.#budgetRefusals.inc({ operation: r.operation });
    }
    switch (r.operation) {
      case 'acquire':
        this.#leaseWait.observe({ outcome: leaseOutcome(r.code) }, r.seconds);
        break;
      case 'claim':
      case 'claimByIds':
        if (Array.isArray(r.result)) {
          for (const claim of r.result) if (isRef(claim)) this.#claims.claimed(claim);
          this.#claimed.inc(r.result.length);
        }
        break;
      case 'complete':
        if (r.code === undefined && isRef(r.body?.claim)) this.#completedOne(r.body.claim);
        break;
      case 'completeMany':
        if (r.code === undefined && Array.isArray(r.body?.items)) for (const item of r.body.items) if (isRef(item)) this.#completedOne(item);
        break;
      case 'fail': {
        const status = (r.result as { status?: unknown } | undefined)?.status;
        if (status === 'dead') this.#deadLetters.inc();
        else if (status !== undefined) this.#retries.inc();
        break;
      }
      case 'take':
        if ((r.result as { granted?: unknown } | undefined)?.granted === false) this.#rateRefusals.inc({ operation: r.operation });
        break;
    }
  }

  #completedOne(ref: ClaimRefLike): void {
    this.#completed.inc();
    const seconds = this.#claims.finished(ref);
    if (seconds !== undefined) this.#claimToComplete.observe(seconds);
  }

  /** An event stream opened on `res`-like `closable`: counted until it closes. */
  streamOpened(stream: StreamKind, closable: { once(event: 'close', listener: () => void): unknown }): void {
    this.#streams.inc({ stream });
    closable.once('close', () => this.#streams.dec({ stream }));
  }

  batchCommitted(size: number): void {
    this.#batchSize.observe(size);
  }

  watcherOverflowed(dropped: number): void {
    this.#overflows.inc();
    this.#dropped.inc(dropped);
  }
}
