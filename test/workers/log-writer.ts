// Writes numbered log lines through the daemon's logger (src/server/log.ts),
// rotating at a small size: `log-writer.ts <file> <count> <maxBytes> <keep>`.
// Lines come in bursts with pauses, so a follower sees rotations both between
// its polls and within one. Prints 'done' once the last line is flushed.
import { createLogger } from '../../src/server/log.ts';

const [file, count, maxBytes, keep] = process.argv.slice(2);
const log = createLogger({ file: file!, stdout: false, maxBytes: Number(maxBytes), keep: Number(keep) });
for (let i = 0; i < Number(count); i++) {
  log.info('line', { n: i, requestId: `r${i % 7}`, authorization: 'Bearer sekrit-token-value-123' });
  if (i % 25 === 24) await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 300));
}
await log.close();
process.stdout.write('done\n');
