// A bulkhead for one client: at most `maxInFlight` requests at the daemon at
// once; more wait in line, first come first served, each no longer than its
// own request deadline, and past `maxQueued` waiting a call fails at once
// with OVERLOADED. The calls that keep something from lapsing (a session's
// heartbeat, a lease's or a claim's renewal) have a lane of their own, so a
// flood of long calls (a hundred acquires waiting on a held key) cannot hold
// every place while a session's heartbeat deadline runs out.
// No Node types: the options are part of the published API.
import { optionalInt } from '../engine/validate.ts';
import { BatonError } from '../errors.ts';
import type { OperationName } from '../protocol/operations.ts';

export interface BulkheadOptions {
  /** Requests of this client at the daemon at once (liveness calls aside). Default 32. */
  maxInFlight?: number;
  /** Places kept for heartbeat, renew and renewClaim; 0 puts them in line with the rest. Default 4. */
  livenessInFlight?: number;
  /** Calls waiting for a place; one more fails at once with OVERLOADED. Default 1000. */
  maxQueued?: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 32;
export const DEFAULT_LIVENESS_IN_FLIGHT = 4;
export const DEFAULT_MAX_QUEUED = 1000;

/** Calls that keep a session, a lease or a claim alive: late, they lose it. */
export const LIVENESS_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>(['heartbeat', 'renew', 'renewClaim']);

export type LaneName = 'general' | 'liveness';

interface Waiter {
  grant(): void;
}

class Lane {
  readonly name: LaneName;
  readonly limit: number;
  active = 0;
  readonly queue: Waiter[] = [];
  constructor(name: LaneName, limit: number) {
    this.name = name;
    this.limit = limit;
  }
}

export class Bulkhead {
  readonly #target: string;
  readonly #general: Lane;
  readonly #liveness: Lane | undefined;
  readonly #maxQueued: number;

  constructor(target: string, options: BulkheadOptions) {
    this.#target = target;
    this.#general = new Lane('general', optionalInt('bulkhead.maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT, { min: 1 }));
    const liveness = optionalInt('bulkhead.livenessInFlight', options.livenessInFlight, DEFAULT_LIVENESS_IN_FLIGHT, { min: 0 });
    this.#liveness = liveness === 0 ? undefined : new Lane('liveness', liveness);
    this.#maxQueued = optionalInt('bulkhead.maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED, { min: 0 });
  }

  /** The most requests in flight at once, both lanes: the connection pool needs as many sockets. */
  get capacity(): number {
    return this.#general.limit + (this.#liveness?.limit ?? 0);
  }

  /**
   * Takes a place in `lane` (waiting in line up to `waitMs`) and returns the
   * function that gives it back. Throws OVERLOADED when the line is full or
   * the wait runs out, ABORTED when `signal` aborts.
   */
  enter(lane: LaneName, waitMs: number | undefined, signal: AbortSignal | undefined): Promise<() => void> {
    const into = lane === 'liveness' ? (this.#liveness ?? this.#general) : this.#general;
    signal?.throwIfAborted();
    if (into.active < into.limit) {
      into.active++;
      return Promise.resolve(this.#leaver(into));
    }
    if (into.queue.length >= this.#maxQueued) throw this.#overloaded(into, `the call found ${into.queue.length} more waiting (bulkhead.maxQueued)`);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = into.queue.indexOf(waiter);
        if (at >= 0) into.queue.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          done();
          into.active++;
          resolve(this.#leaver(into));
        },
      };
      const onAbort = (): void => {
        done();
        reject(new BatonError('ABORTED', `aborted while waiting for one of this client's ${into.limit} request places`));
      };
      const timer = waitMs === undefined ? undefined : setTimeout(() => {
        done();
        reject(this.#overloaded(into, `the call waited ${waitMs} ms (its deadline) for one to finish`));
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      into.queue.push(waiter);
    });
  }

  #leaver(lane: Lane): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      lane.active--;
      lane.queue[0]?.grant();
    };
  }

  #overloaded(lane: Lane, why: string): BatonError {
    return new BatonError(
      'OVERLOADED',
      `this client has ${lane.active} requests in flight to the baton daemon at ${this.#target}, its limit (bulkhead.${lane.name === 'liveness' ? 'livenessInFlight' : 'maxInFlight'}), and ${why}`,
      { details: { target: this.#target, lane: lane.name, inFlight: lane.active, queued: lane.queue.length } },
    );
  }
}
