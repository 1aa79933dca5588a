// One process of the graphile-worker throughput anchor (bench/graphile.ts).
// argv: connectionString concurrency localQueueSize
// stdout: "ready" once warmed up; on stdin "go" starts graphile-worker's run()
// and prints "started <ms>"; on "stop" (or end of stdin) shuts down gracefully
// and prints "done <jobs executed>", then exits.
import { createInterface } from 'node:readline';
import { Logger, makeWorkerUtils, run, type Runner } from 'graphile-worker';

const [connectionString, concurrencyArg, localQueueArg] = process.argv.slice(2) as [string, string, string];
const concurrency = Number(concurrencyArg);
const localQueueSize = Number(localQueueArg);
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[graphile-worker ${process.pid} ${level}] ${message}\n`);
});

// Warm up before "go": load the modules, connect once and check the schema is
// migrated, so the timed part is mostly job processing, not process start-up.
const utils = await makeWorkerUtils({ connectionString, logger });
await utils.migrate();
await utils.release();

let executed = 0;
let runner: Runner | undefined;
const input = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of input) {
  if (line === 'go' && !runner) {
    const t0 = performance.now();
    runner = await run({
      connectionString,
      concurrency,
      // The docs: "10 or concurrentJobs + 2, whichever is larger".
      maxPoolSize: Math.max(10, concurrency + 2),
      // New jobs are announced by LISTEN/NOTIFY; polling only matters when a fetch
      // comes back empty, which here happens only in the tail of a run.
      pollInterval: 100,
      noHandleSignals: true, // the parent stops us through stdin
      logger,
      taskList: { noop: () => void executed++ },
      parsedCronItems: [], // no crontab file lookup
      preset: {
        worker: {
          // The batching the performance docs advise for high throughput.
          localQueue: { size: localQueueSize },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
    process.stdout.write(`started ${(performance.now() - t0).toFixed(1)}\n`);
  } else if (line === 'stop') {
    break;
  }
}
input.close();
if (runner) {
  await runner.stop();
  await runner.promise;
}
process.stdout.write(`done ${executed}\n`);
// Everything is released: the process ends by itself. Should a handle linger, say so and leave.
setTimeout(() => {
  process.stderr.write(`graphile worker ${process.pid}: still alive 10 s after stop\n`);
  process.exit(3);
}, 10_000).unref();
