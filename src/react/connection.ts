// How events reach the store: a stream while it works, polling when it does
// not. The stream resumes after its last seq (Last-Event-ID), so a drop loses
// nothing; after FALLBACK_AFTER failures in a row without an open it gives way
// to polling POST /v1/events (backing off on errors), and tries the stream
// again every PROBE_MS until one opens. Events may arrive twice around a
// switch (a poll in flight while the stream opens); the store drops any seq
// it has already applied, so both paths may overlap safely.
import type { BatonEvent } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import type { ConnectionState } from './types.ts';
import { openEventStream, type StreamHandle } from './sse.ts';

export const FALLBACK_AFTER = 3;
export const RETRY_MS = 1_000;
export const POLL_MS = 1_000;
export const POLL_MAX_MS = 10_000;
export const PROBE_MS = 10_000;
export const POLL_LIMIT = 1_000;
/** Nothing at all (not even a keep-alive comment, sent every 15 s) for this long: the stream is dead though no error came. */
export const IDLE_MS = 45_000;

export interface ConnectionHooks {
  /** GET /v1/events. */
  streamUrl(): string;
  /** Its headers: credentials, and Last-Event-ID when resuming after a seq (none: from now). */
  streamHeaders(after: number | null): Record<string, string>;
  /** The seq applied so far; null before any is known. */
  seq(): number | null;
  /** Where "now" is, learnt before any event (the stream's first id-only block, or a search while polling). */
  onStart(seq: number): void;
  onEvents(events: BatonEvent[]): void;
  /** Events flow from a known position again (a stream opened, or polling began): the lists should be refetched. */
  onPosition(): void;
  onState(state: ConnectionState): void;
  /** The latest failure of each path (null: it works again). A failed probe's error stays while polling works: it says why. */
  onError(path: 'stream' | 'poll', error: BatonError | null): void;
  poll(after: number, limit: number): Promise<BatonEvent[]>;
  /** The last seq in the log, for polling that starts with no seq known. */
  findSeq(): Promise<number>;
  /** Counters only. */
  opened(): void;
  polled(): void;
}

export interface Connection {
  stop(): void;
}

export function connect(hooks: ConnectionHooks): Connection {
  let stopped = false;
  let mode: 'stream' | 'polling' = 'stream';
  let failures = 0;
  let stream: { handle: StreamHandle; open: boolean } | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  let pollBackoff = POLL_MS;
  let pollGeneration = 0;
  let lastHeard = 0;

  const openStream = (): void => {
    if (stopped || stream !== null) return;
    hooks.opened();
    lastHeard = Date.now();
    const current = {
      open: false,
      handle: openEventStream(hooks.streamUrl(), hooks.streamHeaders(hooks.seq()), {
        onOpen() {
          if (stopped) return;
          current.open = true;
          lastHeard = Date.now();
          failures = 0;
          if (mode === 'polling') stopPolling();
          mode = 'stream';
          hooks.onError('stream', null);
          hooks.onError('poll', null);
          hooks.onState('live');
          hooks.onPosition();
        },
        onId(id) {
          lastHeard = Date.now();
          const seq = Number(id);
          if (hooks.seq() === null && Number.isSafeInteger(seq)) hooks.onStart(seq);
        },
        onMessage(data) {
          lastHeard = Date.now();
          let event: BatonEvent;
          try {
            event = JSON.parse(data) as BatonEvent;
          } catch {
            return; // not an event of the daemon's: nothing to apply
          }
          if (typeof event?.seq === 'number') hooks.onEvents([event]);
        },
        onEnd: (error) => ended(current, error),
      }),
    };
    stream = current;
  };

  const ended = (which: NonNullable<typeof stream>, error: BatonError): void => {
    if (stream === which) stream = null;
    if (stopped) return;
    hooks.onError('stream', error);
    if (!which.open) failures++;
    if (mode === 'polling') {
      // A probe that failed: polling goes on, and so do the probes.
      probeTimer = setTimeout(openStream, PROBE_MS);
      return;
    }
    if (failures >= FALLBACK_AFTER) return startPolling();
    hooks.onState('reconnecting');
    // 1 s, then 2 s, with jitter, so many pages do not come back in step.
    retryTimer = setTimeout(openStream, RETRY_MS * 2 ** Math.max(0, failures - 1) * (0.75 + Math.random() / 2));
  };

  // A connection can stall without an error (a suspended laptop, a proxy): hearing nothing for IDLE_MS ends it.
  const idleTimer = setInterval(() => {
    if (stream === null || Date.now() - lastHeard <= IDLE_MS) return;
    const stale = stream;
    stale.handle.close();
    ended(stale, new BatonError('UNAVAILABLE', `the event stream went silent for ${IDLE_MS / 1000} s`));
  }, IDLE_MS / 3);

  const startPolling = (): void => {
    mode = 'polling';
    pollBackoff = POLL_MS;
    // One loop at a time: a poll still in flight from an earlier spell of polling ends at its next check.
    const generation = ++pollGeneration;
    const current = (): boolean => !stopped && mode === 'polling' && generation === pollGeneration;
    hooks.onState('polling');
    let positioned = false;
    const pollOnce = async (): Promise<void> => {
      pollTimer = undefined;
      if (!current()) return;
      let delay = POLL_MS;
      try {
        let after = hooks.seq();
        if (after === null) {
          after = await hooks.findSeq();
          if (hooks.seq() === null) hooks.onStart(after);
          after = hooks.seq() ?? after;
        }
        if (!positioned) {
          positioned = true;
          hooks.onPosition();
        }
        hooks.polled();
        const events = await hooks.poll(after, POLL_LIMIT);
        if (!current()) return;
        hooks.onEvents(events);
        hooks.onError('poll', null);
        pollBackoff = POLL_MS;
        // A full page means more are waiting: read on at once.
        if (events.length >= POLL_LIMIT) delay = 0;
      } catch (error) {
        if (!current()) return;
        hooks.onError('poll', error as BatonError);
        delay = pollBackoff;
        pollBackoff = Math.min(POLL_MAX_MS, pollBackoff * 2);
      }
      pollTimer = setTimeout(() => void pollOnce(), delay);
    };
    void pollOnce();
    probeTimer = setTimeout(openStream, PROBE_MS);
  };

  const stopPolling = (): void => {
    clearTimeout(pollTimer);
    clearTimeout(probeTimer);
    pollTimer = probeTimer = undefined;
  };

  openStream();
  return {
    stop() {
      stopped = true;
      stream?.handle.close();
      stream = null;
      stopPolling();
      clearTimeout(retryTimer);
      clearInterval(idleTimer);
    },
  };
}
