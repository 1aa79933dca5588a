// How a client fails fast and isolates load: the options of its circuit
// breaker (breaker.ts) and bulkhead (bulkhead.ts), one of each per client
// (RemoteCoordinator), never shared between clients of the same daemon.
// No Node types: this is part of the published API.
import type { BreakerOptions } from './breaker.ts';
import type { BulkheadOptions } from './bulkhead.ts';

export interface ResilienceOptions {
  /** Fail at once while the daemon keeps failing, and probe it after a cool-down; false: never. Defaults in breaker.ts. */
  breaker?: BreakerOptions | false;
  /** Bound this client's requests in flight, with a lane kept for heartbeats and renewals; false: no bound. Defaults in bulkhead.ts. */
  bulkhead?: BulkheadOptions | false;
}

export type { BreakerOptions, BulkheadOptions };
