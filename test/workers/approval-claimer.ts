// One of the claimers of test/engine/approval-race.test.ts: registers a
// session, prints 'ready', and on 'go' (stdin) claims from `queue` in a loop,
// completing what it gets, until 'stop'. Prints `got <taskId>` for each claim,
// `attempts <n>` every 25 claims, and `done <attempts>` at the end.
import { openCoordinator } from '../../src/index.ts';

const [url, queue] = process.argv.slice(2) as [string, string];
const c = await openCoordinator({ url });
const session = await c.register({ name: `claimer-${process.pid}`, ttlMs: 600_000, autoHeartbeat: false });
let went = false;
let stop = false;
let go: () => void = () => undefined;
process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
  if (chunk.includes('go')) {
    went = true;
    go();
  }
  if (chunk.includes('stop')) stop = true;
});
process.stdout.write('ready\n');
if (!went) await new Promise<void>((resolve) => (go = resolve));

let attempts = 0;
while (!stop) {
  const got = await c.claim(session.id, { queue, n: 1 });
  attempts++;
  for (const claim of got) {
    process.stdout.write(`got ${claim.taskId}\n`);
    await c.complete(claim);
  }
  if (attempts % 25 === 0) process.stdout.write(`attempts ${attempts}\n`);
}
await c.endSession(session.id);
process.stdout.write(`done ${attempts}\n`);
await c.close();
process.stdin.destroy();
