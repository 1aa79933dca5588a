// One process of the locked read-modify-write benchmark: increments a JSON
// counter for a fixed time with baton or with proper-lockfile + write-file-atomic.
import { readFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { JsonFile } from '../../src/index.ts';
import { readyThenGo } from './go.ts';

const [impl, file, fsyncArg, msArg, warmArg] = process.argv.slice(2) as [string, string, string, string, string];
const fsync = fsyncArg === 'fsync';
const doc = new JsonFile<{ n: number }>(file, { fsync, lock: { timeout: 120_000 } });
// proper-lockfile tuned to retry under contention, as the issue specifies.
const retries = { retries: 10_000, factor: 1, minTimeout: 1, maxTimeout: 10 };

const ops: Record<string, () => Promise<unknown>> = {
  baton: () => doc.update((c) => ({ n: c.n + 1 })),
  'proper-lockfile': async () => {
    const release = await lockfile.lock(file, { retries, realpath: false });
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { n: number };
      await writeFileAtomic(file, JSON.stringify({ n: c.n + 1 }), { fsync });
    } finally {
      await release();
    }
  },
};
const op = ops[impl]!;

await readyThenGo();
// All workers warm up together (both libraries alike), then measure together.
let warm = 0;
for (const until = performance.now() + Number(warmArg); performance.now() < until; warm++) await op();
let count = 0;
for (const until = performance.now() + Number(msArg); performance.now() < until; count++) await op();
process.stdout.write(`count ${count} ${warm}\n`);
