// Takes one lock as often as it can for a while, as a tight loop does, logs
// each time it holds it, and reports how many times it got it and its longest wait.
import { appendFileSync } from 'node:fs';
import { withLock } from '../../src/index.ts';

const [resource, log, msArg] = process.argv.slice(2);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
let count = 0;
let longest = 0;
for (const until = performance.now() + Number(msArg); performance.now() < until; count++) {
  const asked = performance.now();
  await withLock(resource!, async () => {
    longest = Math.max(longest, performance.now() - asked);
    appendFileSync(log!, `${process.pid}\n`);
    const busy = performance.now() + 0.2;
    while (performance.now() < busy);
  }, { timeout: 60_000 });
}
process.stdout.write(`result ${count} ${longest.toFixed(1)}\n`);
