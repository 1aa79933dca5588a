// Run as a worker thread: takes a lock in two tight loops (a pause between,
// as update-loop.ts), tells the parent it is done, then stays busy in the same
// turn until the parent terminates it.
import { parentPort, workerData } from 'node:worker_threads';
import { withLock } from '../../src/index.ts';

const loop = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await withLock(workerData.resource as string, () => undefined);
};
await loop();
await new Promise((resolve) => setTimeout(resolve, 200));
await loop();
parentPort!.postMessage('done');
const until = performance.now() + 2_000;
while (performance.now() < until);
