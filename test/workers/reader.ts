// Parses a file continuously, without a lock, counting reads that are not whole JSON.
import { readFileSync } from 'node:fs';

const [file, ms] = process.argv.slice(2);
let reads = 0;
let bad = 0;
const until = Date.now() + Number(ms);
while (Date.now() < until) {
  try {
    const text = readFileSync(file!, 'utf8');
    reads++;
    try {
      JSON.parse(text);
    } catch {
      bad++;
    }
  } catch {
    // not there yet
  }
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`reads ${reads} bad ${bad}\n`);
