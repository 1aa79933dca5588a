// fs.changed events for what the daemon's watchers see. A checkout or a build
// can change thousands of files at once; published one by one straight into
// the writer they would fill its queue, and clients would get 429 for changes
// nobody asked for. So they go through a lane of their own: a few publishes in
// flight, none while the writer's queue is over half full, the rest waiting
// with one entry per path (a later change of a waiting path joins it: see
// mergeKinds). Past
// the backlog bound, changes are counted instead, and once the lane is empty
// one `fs.changed` with kind 'overflow' says how many were not reported (as
// inotify's queue overflow does): whoever needs exactness rescans.
import type { FileChange } from './project-watch.ts';

/**
 * Two changes of one path as one: what it was before the first and is after
 * the second. Created then deleted is nothing (undefined); deleted then
 * created is changed.
 */
export function mergeKinds(first: FileChange['kind'], then: FileChange['kind']): FileChange['kind'] | undefined {
  const before = first !== 'created';
  const after = then !== 'deleted';
  if (before) return after ? 'changed' : 'deleted';
  return after ? 'created' : undefined;
}

export interface WatcherChange extends FileChange {
  /** The top level of the worktree it happened in. */
  worktree: string;
}

/** What is published: a change, or an overflow report for one worktree. */
export type WatcherReport = WatcherChange | { worktree: string; kind: 'overflow'; dropped: number };

export interface WatcherLaneOptions {
  /** Publishes at most in flight at once. Default 16. */
  maxInFlight?: number;
  /** Changes waiting at most; more are counted as dropped. Default 10000. */
  maxBacklog?: number;
  /** True while the writer should be left alone (its queue is over half full). */
  writerBusy(): boolean;
  /** How long to wait before looking again at a busy writer. Default 20 ms. */
  busyRetryMs?: number;
}

export class WatcherLane {
  readonly #publish: (report: WatcherReport) => Promise<unknown>;
  readonly #maxInFlight: number;
  readonly #maxBacklog: number;
  readonly #writerBusy: () => boolean;
  readonly #busyRetryMs: number;
  readonly #waiting = new Map<string, WatcherChange>();
  readonly #dropped = new Map<string, number>();
  #inFlight = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(publish: (report: WatcherReport) => Promise<unknown>, options: WatcherLaneOptions) {
    this.#publish = publish;
    this.#maxInFlight = options.maxInFlight ?? 16;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
    this.#writerBusy = options.writerBusy;
    this.#busyRetryMs = options.busyRetryMs ?? 20;
  }

  /** Changes waiting to be published. */
  get backlog(): number {
    return this.#waiting.size;
  }

  push(change: WatcherChange): void {
    if (this.#closed) return;
    const id = `${change.worktree}\0${change.path}`;
    const waiting = this.#waiting.get(id);
    if (waiting !== undefined) {
      const kind = mergeKinds(waiting.kind, change.kind);
      if (kind === undefined) this.#waiting.delete(id);
      else waiting.kind = kind;
    } else if (this.#waiting.size >= this.#maxBacklog) {
      this.#dropped.set(change.worktree, (this.#dropped.get(change.worktree) ?? 0) + 1);
    } else {
      this.#waiting.set(id, { ...change });
    }
    this.#pump();
  }

  /** Resolves once nothing waits and nothing is in flight, or once the lane is closed. */
  idle(): Promise<void> {
    if (this.#settled()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#waiting.clear();
    this.#dropped.clear();
    this.#wakeIdle();
  }

  #settled(): boolean {
    return this.#inFlight === 0 && this.#waiting.size === 0 && this.#dropped.size === 0;
  }

  #pump(): void {
    if (this.#closed || this.#retry !== undefined) return;
    while (this.#inFlight < this.#maxInFlight && (this.#waiting.size > 0 || this.#dropped.size > 0)) {
      if (this.#writerBusy()) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#pump();
        }, this.#busyRetryMs);
        this.#retry.unref();
        return;
      }
      const next = this.#next()!;
      this.#inFlight++;
      this.#publish(next)
        .catch(() => undefined) // an event lost to a failing store is not worth the daemon
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (this.#settled()) this.#wakeIdle();
        });
    }
  }

  /** The oldest waiting change; once none waits, an overflow report. */
  #next(): WatcherReport | undefined {
    for (const [id, change] of this.#waiting) {
      this.#waiting.delete(id);
      return change;
    }
    for (const [worktree, dropped] of this.#dropped) {
      this.#dropped.delete(worktree);
      return { worktree, kind: 'overflow', dropped };
    }
    return undefined;
  }

  #wakeIdle(): void {
    for (const wake of this.#idle.splice(0)) wake();
  }
}
