// The backstop thread of retained releases (lock-retention.ts starts it with
// this file): it ends, BACKSTOP_MS after it began, a retention the main thread
// has neither taken back nor ended, with the same code a release runs
// (endNamed: endGeneration, then the wake of the first live waiter). Which of the two
// threads acts is settled by one compare-and-swap on the shared state.
import { workerData } from 'node:worker_threads';
import { BACKSTOP_MS, ENDING, IDLE, LENGTH, READY, RETAINED, SEQ, SINCE, SLEEPING, STATE, endNamed, monotonicMs } from './retention.ts';

const state = new Int32Array(workerData.state as SharedArrayBuffer);
const names = new Uint8Array(workerData.names as SharedArrayBuffer);

Atomics.store(state, READY, 1);
for (;;) {
  Atomics.store(state, SLEEPING, 1);
  Atomics.wait(state, STATE, IDLE);
  Atomics.store(state, SLEEPING, 0);
  if (Atomics.load(state, STATE) !== RETAINED) continue;
  const seq = Atomics.load(state, SEQ);
  // The grace runs from when the retention began, not from when we saw it.
  const left = BACKSTOP_MS - ((monotonicMs() - Atomics.load(state, SINCE)) & 0x7fffffff);
  if (left > 0 && Atomics.wait(state, STATE, RETAINED, left) !== 'timed-out') continue;
  if (Atomics.load(state, SEQ) !== seq) continue; // a newer retention: its own grace
  if (Atomics.compareExchange(state, STATE, RETAINED, ENDING) !== RETAINED) continue;
  try {
    endNamed(names, Atomics.load(state, LENGTH));
  } finally {
    Atomics.store(state, STATE, IDLE);
    Atomics.notify(state, STATE); // the main thread may be waiting for us to finish
  }
}
