// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside
// whichever commit crosses 1000 pages and fsyncs there, a 3-10 ms stall in the
// middle of a request. A long-lived writer (the daemon) turns it off and lets
// a worker thread with its own connection copy the WAL back every 200 ms
// (PASSIVE: it never blocks a writer or a reader).
import { Worker } from 'node:worker_threads';

const source = `
const { workerData, parentPort } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try { checkpoint.get(); } catch { /* busy with another checkpointer: next tick */ }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); try { checkpoint.get(); } catch {} db.close(); process.exit(0); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Starts the worker. `onFailure` runs if it dies before stop() (an error, or
 * its small heap ran out): the caller checkpoints inside commits again.
 */
export function startCheckpointer(path: string, onFailure: () => void, intervalMs = 200): Checkpointer {
  // Its heap holds one statement: a small one keeps the daemon's memory down (4 MB of resident set).
  const worker = new Worker(source, { eval: true, workerData: { path, intervalMs }, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
  worker.unref();
  let stopping = false;
  worker.on('error', () => {
    // reported through 'exit' below
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!stopping) onFailure();
      resolve();
    }),
  );
  return {
    async stop() {
      stopping = true;
      worker.ref(); // the loop must not empty while we wait for it
      worker.postMessage('stop');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    },
  };
}
