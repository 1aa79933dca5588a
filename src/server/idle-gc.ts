// After a burst of requests V8 keeps its heap at the burst's high-water mark
// (here 35 to 95 MB after loading 100,000 tasks) and gives memory back only
// much later, so a daemon that idles between bursts would sit on it. Once
// requests have stopped for a moment (and the heap has grown), the daemon runs
// one full collection (about 10 ms here), which shrinks the heap to what is live.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How much the heap must have grown since the last collection for an idle one. */
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

/** `lastActivity` is the performance.now() of the latest request. */
export function collectWhenIdle(lastActivity: () => number, idleMs = 500): IdleCollector {
  const gc = gcFunction();
  let heapAfter = getHeapStatistics().total_heap_size;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = (): void => {
    const quiet = performance.now() - lastActivity();
    if (quiet < idleMs) {
      timer = setTimeout(check, idleMs - quiet).unref();
      return;
    }
    timer = undefined;
    // Requests now and then (heartbeats) grow the heap little: no collection for them.
    if (getHeapStatistics().total_heap_size - heapAfter < GROWTH_BYTES) return;
    gc!();
    heapAfter = getHeapStatistics().total_heap_size;
  };
  return {
    touch() {
      if (gc !== undefined && timer === undefined) timer = setTimeout(check, idleMs).unref();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
