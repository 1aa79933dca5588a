// Takes tokens (waiting) for `ms` milliseconds; prints the time of each grant.
import { FileRateLimiter } from '../../src/index.ts';

const [file, rate, burst, ms] = process.argv.slice(2);
const limiter = new FileRateLimiter(file!, { rate: Number(rate), burst: Number(burst) });
const start = Number(process.env.START_AT ?? Date.now());
while (Date.now() < start) await new Promise((r) => setTimeout(r, 1));
const until = start + Number(ms);
const grants: number[] = [];
for (;;) {
  const left = until - Date.now();
  if (left <= 0) break;
  const result = await limiter.take(1, { wait: true, timeout: left });
  if (result.granted) grants.push(Date.now());
}
process.stdout.write(`grants ${JSON.stringify(grants)}\n`);
