// After a burst of requests V8 keeps its heap at the burst's high-water mark
// (here 35 to 95 MB after loading 100,000 tasks) and gives memory back only
// much later, so a daemon that idles between bursts would sit on it. Once
// requests have stopped for a moment (and the heap has filled), the daemon runs
// one full collection (about 10 ms here), which shrinks the heap to what is live.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How much more the heap must hold than after the last collection for an idle one. */
const GROWTH_BYTES = 8 * 2 ** 20;

/** V8's gc(): the global one under --expose-gc, else one made by turning the flag on now. */
function gcFunction(): (() => void) | undefined {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  try {
    setFlagsFromString('--expose-gc');
    const made = runInNewContext('gc') as unknown;
    return typeof made === 'function' ? (made as () => void) : undefined;
  } catch {
    return undefined; // no collection on idle: V8 shrinks the heap in its own time
  }
}

export interface IdleCollector {
  /** There was activity: collect once it has been quiet for the idle time. */
  touch(): void;
  stop(): void;
}

export interface IdleOptions {
  /** Quiet time after the latest request. Default 500 ms. */
  idleMs?: number;
  /** How much more the heap must hold than after the last collection. Default 8 MB. */
  growthBytes?: number;
  /** Runs at the start of every quiet period that follows activity (the daemon syncs its database there). */
  onIdle?: () => void;
}

/** `lastActivity` is the performance.now() of the latest request. */
export function collectWhenIdle(lastActivity: () => number, options: IdleOptions = {}): IdleCollector {
  const { idleMs = 500, growthBytes = GROWTH_BYTES, onIdle } = options;
  const gc = gcFunction();
  const used = (): number => getHeapStatistics().used_heap_size;
  let usedAfter = used();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const check = (): void => {
    const quiet = performance.now() - lastActivity();
    if (quiet < idleMs) {
      timer = setTimeout(check, idleMs - quiet).unref();
      return;
    }
    timer = undefined;
    try {
      onIdle?.();
    } catch {
      // best effort: the next quiet period tries again
    }
    // What the heap holds beyond what was live after the last collection is
    // mostly garbage; requests now and then (heartbeats) leave little: no collection for them.
    const now = used();
    usedAfter = Math.min(usedAfter, now);
    if (gc === undefined || now - usedAfter < growthBytes) return;
    gc();
    usedAfter = used();
  };
  return {
    touch() {
      if (!stopped && timer === undefined) timer = setTimeout(check, idleMs).unref();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
