// Takes a lock repeatedly and logs when it held it, for overlap checks.
import { appendFileSync } from 'node:fs';
import { withLock } from '../../src/index.ts';

const [resource, log, rounds, type] = process.argv.slice(2);
if (process.env.BARRIER) {
  // Start together with the others: the parent says go on stdin.
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}
for (let i = 0; i < Number(rounds); i++) {
  await withLock(
    resource!,
    async () => {
      // CLOCK_MONOTONIC: one clock for every process on the host (timeOrigin is each process's own estimate).
      const start = Number(process.hrtime.bigint()) / 1e6;
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      const end = Number(process.hrtime.bigint()) / 1e6;
      appendFileSync(log!, `${type} ${process.pid} ${start} ${end}\n`);
    },
    { type: type as 'shared' | 'exclusive', timeout: 60_000 },
  );
}
