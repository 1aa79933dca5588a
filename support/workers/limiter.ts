// Takes tokens (waiting) for `ms` milliseconds; prints the time of each grant (the limiter's own clock).
// Spawned by test/files/rate-limiter.test.ts and by the bench (bench/run.ts).
import { FileRateLimiter } from '../../src/index.ts';

const [file, rate, burst, ms] = process.argv.slice(2);
const limiter = new FileRateLimiter(file!, { rate: Number(rate), burst: Number(burst) });
// Every process starts taking at once: the parent says go on stdin when all are ready.
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
const start = Date.now();
const until = start + Number(ms);
const grants: number[] = [];
for (;;) {
  const left = until - Date.now();
  if (left <= 0) break;
  const result = await limiter.take(1, { wait: true, timeout: left });
  if (result.granted) grants.push(result.at);
}
process.stdout.write(`grants ${start} ${JSON.stringify(grants)}\n`);
