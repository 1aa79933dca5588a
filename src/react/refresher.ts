// Coalesced refetching of the store's lists. An event names the lists it
// changed; each list is then fetched again, but never twice at once: a list
// marked while its fetch is in flight is fetched once more when that one
// ends. Fetches of a list start at most every `minIntervalMs` and, when the
// daemon is slow to answer, no more often than twice its last answer time,
// so a flood of events costs a bounded share of the page's time and the
// daemon's, whatever the event rate. The first mark after a quiet spell is
// fetched at once (in the next task, so a burst in one chunk is one fetch).
import type { ListName } from './types.ts';

export interface RefresherOptions {
  fetch(name: ListName, signal: AbortSignal): Promise<void>;
  minIntervalMs(name: ListName): number;
  onError(name: ListName, error: unknown): void;
  onSuccess(name: ListName): void;
}

interface Slot {
  dirty: boolean;
  running: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  lastStart: number;
  lastMs: number;
  /** Resolved by the next fetch to start (sync()'s callers). */
  waiting: (() => void)[];
}

export class Refresher {
  readonly #options: RefresherOptions;
  readonly #slots = new Map<ListName, Slot>();
  #controller = new AbortController();

  constructor(options: RefresherOptions) {
    this.#options = options;
  }

  #slot(name: ListName): Slot {
    let slot = this.#slots.get(name);
    if (slot === undefined) this.#slots.set(name, (slot = { dirty: false, running: false, timer: undefined, lastStart: -Infinity, lastMs: 0, waiting: [] }));
    return slot;
  }

  /** Fetch these again soon. */
  mark(names: Iterable<ListName>): void {
    for (const name of names) {
      const slot = this.#slot(name);
      slot.dirty = true;
      this.#schedule(name, slot);
    }
  }

  /** Fetch these now; resolves when a fetch of each that started after this call has ended (well or not). */
  sync(names: Iterable<ListName>): Promise<void> {
    const done: Promise<void>[] = [];
    for (const name of names) {
      const slot = this.#slot(name);
      done.push(new Promise<void>((resolve) => slot.waiting.push(resolve)));
      slot.dirty = true;
      if (!slot.running) {
        clearTimeout(slot.timer);
        slot.timer = undefined;
        void this.#run(name, slot);
      }
    }
    return Promise.all(done).then(() => undefined);
  }

  /** Drop every pending fetch and abort those in flight; waiting sync() calls resolve. */
  stop(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
    for (const slot of this.#slots.values()) {
      clearTimeout(slot.timer);
      for (const resolve of slot.waiting) resolve();
    }
    this.#slots.clear();
  }

  #schedule(name: ListName, slot: Slot): void {
    if (slot.running || slot.timer !== undefined) return;
    const gap = Math.max(this.#options.minIntervalMs(name), 2 * slot.lastMs);
    const wait = Math.max(0, slot.lastStart + gap - performance.now());
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.#run(name, slot);
    }, wait);
  }

  async #run(name: ListName, slot: Slot): Promise<void> {
    const signal = this.#controller.signal;
    slot.running = true;
    slot.dirty = false;
    const waiting = slot.waiting;
    slot.waiting = [];
    const started = performance.now();
    slot.lastStart = started;
    try {
      await this.#options.fetch(name, signal);
      if (!signal.aborted) this.#options.onSuccess(name);
    } catch (error) {
      if (!signal.aborted) this.#options.onError(name, error);
    } finally {
      slot.lastMs = performance.now() - started;
      slot.running = false;
      for (const resolve of waiting) resolve();
      if (signal.aborted) return;
      // Asked for while this one ran: sync() callers at once, marks when the interval allows.
      if (slot.waiting.length > 0) void this.#run(name, slot);
      else if (slot.dirty) this.#schedule(name, slot);
    }
  }
}
