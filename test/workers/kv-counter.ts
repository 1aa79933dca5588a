// Increments one shared-state counter N times, by compare-and-swap ('cas':
// read, put with expectRevision, retry on CONFLICT) or by a plain put ('plain':
// read, put; what CAS guards against). Prints `ok <expected> <revision> <value>`
// per successful put and `conflicts <n>` at the end. Waits for 'go' on stdin.
import { isBatonError, openCoordinator } from '../../src/index.ts';

const [url, mode, count, key = 'counter'] = process.argv.slice(2);
const c = await openCoordinator({ url: url! });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.stdin.once('data', () => resolve());
  process.stdin.once('end', () => resolve());
});
process.stdin.pause();
let conflicts = 0;
const out: string[] = [];
for (let i = 0; i < Number(count); i++) {
  for (;;) {
    const entry = await c.kvGet(key);
    const expected = entry?.revision ?? 0;
    const value = ((entry?.value as number | undefined) ?? 0) + 1;
    try {
      if (mode === 'plain') await new Promise((r) => setTimeout(r, Math.random() * 2));
      const put = await c.kvPut(key, value, mode === 'cas' ? { expectRevision: expected } : {});
      out.push(`ok ${expected} ${put.revision} ${value}`);
      break;
    } catch (error) {
      if (!isBatonError(error, 'CONFLICT')) throw error;
      conflicts++;
    }
  }
}
process.stdout.write(`${out.join('\n')}\nconflicts ${conflicts}\n`);
await c.close();
