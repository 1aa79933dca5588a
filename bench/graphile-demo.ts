// node bench/graphile-demo.ts [jobs]: graphile-worker throughput on an embedded
// PostgreSQL with 1, 2, 4 and 8 worker processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphileThroughput, startPostgres } from './graphile.ts';

const jobs = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'baton-graphile-'));
try {
  const t0 = performance.now();
  const pg = await startPostgres(dir);
  console.log(`postgres up in ${(performance.now() - t0).toFixed(0)} ms (${pg.connectionString.replace(/:[^:@/]*@/, ':***@')})`);
  try {
    for (const workers of [1, 2, 4, 8]) {
      const r = await graphileThroughput(pg, { workers, jobs });
      console.log(
        `graphile-worker, ${workers} proc: ${r.jobsPerSec.toFixed(0)} jobs/s (${jobs} jobs in ${r.runMs.toFixed(0)} ms, slowest start ${r.startMs.toFixed(0)} ms); enqueue ${r.enqueueMs.toFixed(0)} ms = ${((jobs / r.enqueueMs) * 1000).toFixed(0)} jobs/s; executed ${r.executed}`,
      );
    }
  } finally {
    await pg.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
