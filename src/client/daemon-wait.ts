// What a client says while its requests wait for the daemon (down, starting,
// restarting, full): a hook, so the library prints nothing and the CLI draws
// its note. No Node types: this is part of the published API.

/** Why requests are waiting for the daemon, and since when (ms since the epoch). */
export interface DaemonWait {
  /** The daemon's address (baton+unix://..., http://...) or state directory. */
  target: string;
  /** e.g. "not answering (ECONNREFUSED)", "restarting (503)", "starting it". */
  reason: string;
  since: number;
}

/**
 * Told when a request starts (or goes on) waiting for the daemon, and with
 * undefined once no request waits any more (answered, or given up).
 */
export type DaemonWaitHook = (wait: DaemonWait | undefined) => void;

export interface TransportHooks {
  /** Requests retried while the daemon is down, restarting or full; the CLI's note on a terminal. */
  onDaemonWait?: DaemonWaitHook | undefined;
}
