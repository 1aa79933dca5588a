// One process of the locked read-modify-write benchmark: increments a JSON
// counter for a fixed time with baton or with proper-lockfile + write-file-atomic.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { JsonFile } from '../../src/index.ts';
import { readyThenGo } from './go.ts';

const PRIVATE_WARM_OPS = 300;

const [impl, file, fsyncArg, msArg, warmArg] = process.argv.slice(2) as [string, string, string, string, string];
const fsync = fsyncArg === 'fsync';
// proper-lockfile tuned to retry under contention, as the issue specifies.
const retries = { retries: 10_000, factor: 1, minTimeout: 1, maxTimeout: 10 };

const impls: Record<string, (path: string) => () => Promise<unknown>> = {
  baton: (path) => {
    const doc = new JsonFile<{ n: number }>(path, { fsync, lock: { timeout: 120_000 } });
    return () => doc.update((c) => ({ n: c.n + 1 }));
  },
  'proper-lockfile': (path) => async () => {
    const release = await lockfile.lock(path, { retries, realpath: false });
    try {
      const c = JSON.parse(readFileSync(path, 'utf8')) as { n: number };
      await writeFileAtomic(path, JSON.stringify({ n: c.n + 1 }), { fsync });
    } finally {
      await release();
    }
  },
};
const op = impls[impl]!(file);

// Each worker first runs its operation alone on a file of its own, so its code
// is compiled before the shared warm-up: with 8 workers that warm-up gives each
// only an eighth of its operations, too few for the JIT. Both libraries alike.
const own = `${file}.warm-${process.pid}`;
writeFileSync(own, '{"n":0}');
const warmOwn = impls[impl]!(own);
for (let i = 0; i < PRIVATE_WARM_OPS; i++) await warmOwn();
rmSync(own);

await readyThenGo();
// All workers warm up together (both libraries alike), then measure together.
let warm = 0;
for (const until = performance.now() + Number(warmArg); performance.now() < until; warm++) await op();
let count = 0;
for (const until = performance.now() + Number(msArg); performance.now() < until; count++) await op();
process.stdout.write(`count ${count} ${warm}\n`);
