// The state of one daemon as a page sees it, shared by every component that
// reads it: one connection, one set of lists, one immutable snapshot. Events
// are applied as they arrive (deduplicated by seq, handlers called at once);
// the lists they name are refetched, coalesced (refresher.ts); and the
// snapshot is rebuilt at most once per frame, only when something in it
// changed, so useSyncExternalStore sees the same object until then.
import type { BatonEvent } from '../coordinator.ts';
import { connect, type Connection } from './connection.ts';
import { nextFrame } from './frame.ts';
import { authHeaders, callOperation, url, type Endpoint } from './http.ts';
import { findLastSeq } from './last-seq.ts';
import { ALL_LISTS, PERIODIC, keys, listsChangedBy, minIntervalMs, readers, type Lists } from './lists.ts';
import { Refresher } from './refresher.ts';
import { reuseList, reuseValue } from './reuse.ts';
import type { BatonActions, ConnectionState, ListName, ProtocolState, StoreStats } from './types.ts';

/** Events kept in the snapshot. */
export const MAX_EVENTS = 5_000;
/** Events read back from before the page opened, so the timeline does not start empty. */
export const HISTORY = 1_000;

/** What a pause holds still; the connection, the error and who the page is go on changing. */
const FROZEN = ['seq', 'status', 'leases', 'sessions', 'tasks', 'taskCounts', 'budgets', 'rateLimits', 'quotas', 'events', 'syncedAt'] as const;

const emptyLists: Lists = Object.freeze({ whoami: null, status: null, leases: [], sessions: [], tasks: [], taskCounts: {}, budgets: [], rateLimits: [], quotas: [] });

interface Handler {
  match: (event: BatonEvent) => boolean;
  handler: (event: BatonEvent) => void;
}

/** A handler's error is the page's to see, not the store's to die of. */
function report(error: unknown): void {
  if (typeof reportError === 'function') reportError(error);
  else setTimeout(() => { throw error; });
}

export class ProtocolStore {
  readonly endpoint: Endpoint;
  readonly #listeners = new Set<() => void>();
  readonly #handlers = new Set<Handler>();
  readonly #refresher: Refresher;
  #references = 0;
  #stopTimer: ReturnType<typeof setTimeout> | undefined;
  #connection: Connection | null = null;
  #periodic: ReturnType<typeof setInterval>[] = [];
  #counters = { eventSubscriptions: 0, streamsOpened: 0, polls: 0, fetches: Object.fromEntries(ALL_LISTS.map((n) => [n, 0])) as Record<ListName, number> };

  // The latest of everything; the snapshot is made from it each frame.
  #seq: number | null = null;
  #lists: Lists = emptyLists;
  #events: readonly BatonEvent[] = [];
  #incoming: BatonEvent[] = [];
  #connectionState: ConnectionState = 'connecting';
  #errors = new Map<string, string>();
  #syncedAt = 0;
  #historyRead = false;
  /** While paused: the snapshot whose data stays on screen. */
  #frozen: ProtocolState | null = null;
  #snapshot: ProtocolState;
  #cancelFrame: (() => void) | undefined;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    this.#snapshot = this.#build();
    this.#refresher = new Refresher({
      fetch: async (name, signal) => {
        this.#counters.fetches[name]++;
        const value = await readers[name](this.endpoint, signal);
        if (!signal.aborted) this.#setList(name, value);
      },
      minIntervalMs,
      onError: (name, error) => this.#setError(name, error),
      onSuccess: (name) => this.#setError(name, null),
    });
  }

  // --- for useSyncExternalStore (arrow properties: stable, unbound use is fine) ---

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    this.retain();
    return () => {
      if (this.#listeners.delete(listener)) this.release();
    };
  };

  readonly getSnapshot = (): ProtocolState => this.#snapshot;

  /** Calls `handler` with each new event that `match` accepts, as it arrives; returns the unsubscribe. */
  onEvent(match: Handler['match'], handler: Handler['handler']): () => void {
    const entry: Handler = { match, handler };
    this.#handlers.add(entry);
    this.#counters.eventSubscriptions++;
    this.retain();
    return () => {
      if (this.#handlers.delete(entry)) this.release();
    };
  }

  readonly actions: BatonActions = {
    call: <R>(operation: string, body: object) => callOperation<R>(this.endpoint, operation, body),
    pause: () => {
      if (this.#frozen !== null) return;
      this.#frozen = this.#snapshot;
      this.#changed();
    },
    resume: () => {
      if (this.#frozen === null) return;
      this.#frozen = null;
      this.#changed();
    },
    sync: () => this.#refresher.sync(ALL_LISTS),
  };

  stats(): StoreStats {
    return { references: this.#references, listeners: this.#listeners.size, eventHandlers: this.#handlers.size, ...this.#counters, fetches: { ...this.#counters.fetches } };
  }

  // --- reference counting: the connection runs while anything holds the store ---

  retain(): void {
    this.#references++;
    clearTimeout(this.#stopTimer);
    this.#stopTimer = undefined;
    if (this.#connection === null) this.#start();
  }

  release(): void {
    if (--this.#references > 0) return;
    // Not at once: React's StrictMode, and a view replaced by another, let go and take hold again in a moment.
    this.#stopTimer = setTimeout(() => {
      if (this.#references === 0) this.#stop();
    }, 1_000);
  }

  #start(): void {
    this.#connection = connect({
      streamUrl: () => url(this.endpoint, '/v1/events'),
      streamHeaders: (after) => ({ ...authHeaders(this.endpoint), ...(after === null ? {} : { 'last-event-id': String(after) }) }),
      seq: () => this.#seq,
      onStart: (seq) => this.#startAt(seq),
      onEvents: (events) => this.#apply(events),
      onPosition: () => void this.#refresher.sync(ALL_LISTS),
      onState: (state) => {
        this.#connectionState = state;
        this.#changed();
      },
      onError: (path, error) => this.#setError(path, error),
      poll: (after, limit) => callOperation<BatonEvent[]>(this.endpoint, 'events', { after, limit }),
      findSeq: () =>
        findLastSeq(
          () => readers.status(this.endpoint, new AbortController().signal),
          async (after) => (await callOperation<BatonEvent[]>(this.endpoint, 'events', { after, limit: 1 }))[0],
        ),
      opened: () => void this.#counters.streamsOpened++,
      polled: () => void this.#counters.polls++,
    });
    // The first paint need not wait for the stream; the stream's open syncs again from its position.
    void this.#refresher.sync(ALL_LISTS);
    for (const [name, every] of PERIODIC) this.#periodic.push(setInterval(() => this.#refresher.mark([name]), every));
  }

  /** Nothing holds the store: close everything and forget the data (a later user starts afresh). */
  #stop(): void {
    this.#connection?.stop();
    this.#connection = null;
    this.#refresher.stop();
    for (const timer of this.#periodic) clearInterval(timer);
    this.#periodic = [];
    this.#cancelFrame?.();
    this.#cancelFrame = undefined;
    this.#seq = null;
    this.#lists = emptyLists;
    this.#events = [];
    this.#incoming = [];
    this.#connectionState = 'connecting';
    this.#errors.clear();
    this.#syncedAt = 0;
    this.#historyRead = false;
    this.#frozen = null;
    this.#snapshot = this.#build();
  }

  // --- what arrives ---

  /** The stream (or the first poll) says where "now" is, before any event: read back some history for the timeline. */
  #startAt(seq: number): void {
    this.#seq = seq;
    this.#changed();
    if (this.#historyRead || seq === 0) return;
    this.#historyRead = true;
    const connection = this.#connection;
    callOperation<BatonEvent[]>(this.endpoint, 'events', { after: Math.max(0, seq - HISTORY), limit: HISTORY }).then(
      (history) => {
        if (this.#connection !== connection) return;
        const first = this.#events[0]?.seq ?? this.#incoming[0]?.seq ?? Infinity;
        const older = history.filter((e) => e.seq <= seq && e.seq < first);
        if (older.length === 0) return;
        this.#events = Object.freeze([...older, ...this.#events].slice(-MAX_EVENTS));
        this.#changed();
      },
      () => {}, // history is a nicety: the live tail is what counts
    );
  }

  #apply(events: readonly BatonEvent[]): void {
    const changed = new Set<ListName>();
    for (const event of events) {
      if (this.#seq !== null && event.seq <= this.#seq) continue; // seen already (a resume or a switch overlapped)
      this.#seq = event.seq;
      this.#incoming.push(event);
      for (const name of listsChangedBy(event)) changed.add(name);
      for (const { match, handler } of this.#handlers) {
        if (!match(event)) continue;
        try {
          handler(event);
        } catch (error) {
          report(error);
        }
      }
    }
    if (this.#incoming.length > MAX_EVENTS) this.#incoming.splice(0, this.#incoming.length - MAX_EVENTS);
    if (changed.size > 0) this.#refresher.mark(changed);
    this.#changed();
  }

  #setList(name: ListName, value: unknown): void {
    const lists = this.#lists;
    const keyOf = (keys as Partial<Record<ListName, (item: never) => string | number>>)[name];
    const next = keyOf === undefined ? reuseValue(lists[name], value) : reuseList(lists[name] as readonly never[], value as readonly never[], keyOf);
    this.#syncedAt = Date.now();
    if (next !== lists[name]) this.#lists = Object.freeze({ ...lists, [name]: next });
    this.#changed();
  }

  #setError(source: string, error: unknown): void {
    const had = this.#errors.get(source);
    if (error === null || error === undefined) {
      if (had === undefined) return;
      this.#errors.delete(source);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.#errors.delete(source); // the latest goes last: it is the one shown
      this.#errors.set(source, message);
    }
    this.#changed();
  }

  // --- the snapshot ---

  #changed(): void {
    this.#cancelFrame ??= nextFrame(() => {
      this.#cancelFrame = undefined;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#incoming.length > 0) {
      const all = this.#events.concat(this.#incoming);
      this.#events = Object.freeze(all.length > MAX_EVENTS ? all.slice(-MAX_EVENTS) : all);
      this.#incoming = [];
    }
    const next = this.#build();
    const prev = this.#snapshot;
    if ((Object.keys(next) as (keyof ProtocolState)[]).every((k) => next[k] === prev[k])) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }

  #build(): ProtocolState {
    const lists = this.#lists;
    const shown = this.#frozen;
    const data: Pick<ProtocolState, (typeof FROZEN)[number]> =
      shown === null
        ? { seq: this.#seq ?? 0, status: lists.status, leases: lists.leases, sessions: lists.sessions, tasks: lists.tasks, taskCounts: lists.taskCounts, budgets: lists.budgets, rateLimits: lists.rateLimits, quotas: lists.quotas, events: this.#events, syncedAt: this.#syncedAt }
        : (Object.fromEntries(FROZEN.map((k) => [k, shown[k]])) as Pick<ProtocolState, (typeof FROZEN)[number]>);
    return Object.freeze({ connection: this.#connectionState, paused: shown !== null, whoami: lists.whoami, error: [...this.#errors.values()].at(-1) ?? null, ...data });
  }
}
