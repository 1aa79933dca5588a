// The daemon's delivery worker. Each turn it moves new events into the
// outbox of every enabled endpoint (src/engine/webhooks.ts), claims the
// deliveries that are due for this daemon's node, and sends them, at most
// WEBHOOK_CONCURRENCY at once, recording each attempt when it ends. It wakes
// every pollMs, sooner when a delivery falls due or an operation pokes it.
// A daemon that stops aborts what is in flight without recording it: those
// deliveries are sent again (same webhook-id) by whichever daemon comes next.
import { lastEventSeq } from '../../engine/events.ts';
import {
  claimDue, enqueueEvents, listEndpoints, nextDue, pruneDeliveries, recordAttempt, signingSecrets, type DeliveryOutcome, type DeliveryRow, type EndpointRow,
} from '../../engine/webhooks.ts';
import { WEBHOOK_CONCURRENCY, WEBHOOK_RETRY_SCHEDULE_MS, WEBHOOK_TIMEOUT_MS } from '../../limits.ts';
import type { Store } from '../../stores/store.ts';
import type { Logger } from '../log.ts';
import { post } from './send.ts';
import { signedHeaders } from './signature.ts';
import { resolveTarget } from './url-guard.ts';

export interface WorkerOptions {
  /** The daemon's writer: reads and writes of the outbox go through it like every other. */
  store: Store;
  /** This daemon's node: its claims are held while it lives. */
  nodeId: string;
  log: Logger;
  /** The daemon allows endpoints marked allowPrivate (--webhooks-allow-private). */
  allowPrivate: boolean;
  /** Waits before each retry (default WEBHOOK_RETRY_SCHEDULE_MS). */
  schedule?: readonly number[];
  pollMs?: number;
  timeoutMs?: number;
}

/** Delivered and given-up deliveries are kept this long for `baton webhook deliveries` (the event log's default retention). */
const KEEP_DONE_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** With no endpoint at all, look this seldom. */
const IDLE_POLL_MS = 2_000;

export class WebhookWorker {
  readonly #options: WorkerOptions;
  readonly #schedule: readonly number[];
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #lastPrune = 0;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#schedule = options.schedule ?? WEBHOOK_RETRY_SCHEDULE_MS;
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.#pollMs = options.pollMs ?? 500;
  }

  get allowPrivate(): boolean {
    return this.#options.allowPrivate;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Look now: an endpoint or a test delivery was added. */
  poke(): void {
    this.#wake?.();
  }

  async close(): Promise<void> {
    this.#stopping.abort();
    this.poke();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  async #run(): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      let sleepMs = this.#pollMs;
      try {
        sleepMs = await this.#turn();
      } catch (error) {
        // The store is unreachable or busy: the next turn tries again; nothing is lost (the outbox is in the store).
        this.#options.log.warn('webhook worker', { error: error instanceof Error ? error.message : String(error) });
      }
      if (this.#stopping.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(10, sleepMs));
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** One turn; how long to sleep before the next. */
  async #turn(): Promise<number> {
    const { store } = this.#options;
    const { endpoints, seq } = await store.read(async (tx) => ({ endpoints: await listEndpoints(tx), seq: await lastEventSeq(tx) }));
    if (endpoints.length === 0) return IDLE_POLL_MS; // an add pokes this daemon; another daemon's add is seen within this
    for (const endpoint of endpoints) {
      if (endpoint.disabled_at !== null || endpoint.cursor >= seq) continue;
      while ((await store.write((tx) => enqueueEvents(tx, endpoint.id))).more && !this.#stopping.signal.aborted);
    }
    if (Date.now() - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = Date.now();
      await store.write((tx) => pruneDeliveries(tx, tx.now - KEEP_DONE_MS));
    }
    const free = WEBHOOK_CONCURRENCY - this.#inFlight.size;
    if (free <= 0) return this.#pollMs; // a send that ends pokes
    const due = await store.read(async (tx) => ({ at: await nextDue(tx), now: tx.now }));
    if (due.at === null) return this.#pollMs;
    if (due.at > due.now) return Math.min(this.#pollMs, due.at - due.now);
    // Claimed for twice the request's deadline: a claim outlives its send, and a dead daemon's claims come back when its node lapses.
    const claimed = await store.write((tx) => claimDue(tx, this.#options.nodeId, free, 2 * this.#timeoutMs + 5_000));
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    for (const row of claimed) {
      const endpoint = byId.get(row.endpoint_id);
      if (endpoint === undefined) continue; // added this turn: the next turn knows it
      const sending = this.#deliver(endpoint, row).finally(() => this.#inFlight.delete(sending));
      this.#inFlight.add(sending);
    }
    return claimed.length === free ? 0 : this.#pollMs;
  }

  async #deliver(endpoint: EndpointRow, row: DeliveryRow): Promise<void> {
    const outcome = await this.#send(endpoint, row);
    if (this.#stopping.signal.aborted && outcome.status === null) return; // cut short by the stop: sent again later
    try {
      const status = await this.#options.store.write((tx) => recordAttempt(tx, row, outcome, this.#schedule));
      if (status !== 'delivered') {
        this.#options.log.warn('webhook delivery failed', { endpoint: endpoint.id, delivery: row.id, status: outcome.status, error: outcome.error, outcome: status });
      }
    } catch (error) {
      // Unrecorded: the claim lapses and the delivery is sent again (at least once).
      this.#options.log.warn('webhook delivery not recorded', { delivery: row.id, error: error instanceof Error ? error.message : String(error) });
    }
    this.poke();
  }

  async #send(endpoint: EndpointRow, row: DeliveryRow): Promise<DeliveryOutcome> {
    const at = Date.now();
    const url = new URL(endpoint.url);
    let target;
    try {
      // Resolved and checked at every send: the name may point elsewhere now.
      target = await resolveTarget(url, this.#options.allowPrivate && endpoint.allow_private === 1);
    } catch (error) {
      return { at, status: null, error: error instanceof Error ? error.message : String(error), ms: Date.now() - at };
    }
    const headers = signedHeaders(signingSecrets(endpoint, at), row.id, Math.floor(at / 1000), row.payload);
    return post({ url, target, headers, body: row.payload, timeoutMs: this.#timeoutMs, signal: this.#stopping.signal });
  }
}
