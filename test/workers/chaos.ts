// Increments a counter for ever; says when it enters the critical section and what it committed.
import { JsonFile } from '../../src/index.ts';

const [file] = process.argv.slice(2);
const doc = new JsonFile<{ n: number }>(file!, { defaultValue: { n: 0 }, fsync: true, lock: { timeout: Infinity } });
process.stdout.write('ready\n');
for (;;) {
  const next = await doc.update((c) => {
    process.stdout.write(`in ${Date.now()}\n`);
    // a little random work inside the lock, so kills land at every stage
    const until = performance.now() + Math.random() * 3;
    while (performance.now() < until);
    return { n: c.n + 1 };
  });
  process.stdout.write(`committed ${next.n}\n`);
}
