// Takes a lock repeatedly and logs when it held it, for overlap checks.
import { appendFileSync } from 'node:fs';
import { withLock } from '../../src/index.ts';

const [resource, log, rounds, type] = process.argv.slice(2);
for (let i = 0; i < Number(rounds); i++) {
  await withLock(
    resource!,
    async () => {
      const start = performance.timeOrigin + performance.now();
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      const end = performance.timeOrigin + performance.now();
      appendFileSync(log!, `${type} ${process.pid} ${start} ${end}\n`);
    },
    { type: type as 'shared' | 'exclusive', timeout: 60_000 },
  );
}
