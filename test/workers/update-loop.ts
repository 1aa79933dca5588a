// Takes a lock n times in a tight loop, pauses, does it again, then exits at
// once (process.exit in the same turn as the last release). Prints the last
// owner id and how many records the second loop's acquisitions held the lock
// under. With `retained`, the pause lasts until a release is seen retained
// (the backstop thread runs: slow to start on a loaded machine), so the
// second loop retains its releases; else it is 200 ms.
import { withLock } from '../../src/index.ts';

const [resource, times, pause] = process.argv.slice(2) as [string, string, string | undefined];
const owners = new Set<string>();
let owner = '';
const loop = async (n: number): Promise<void> => {
  owners.clear();
  for (let i = 0; i < n; i++) await withLock(resource, (handle) => void owners.add((owner = handle.record.ownerId)));
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
await loop(Number(times));
if (pause === 'retained') {
  const deadline = Date.now() + 20_000;
  do {
    await sleep(20);
    await loop(3);
  } while (owners.size === 3 && Date.now() < deadline);
} else {
  await sleep(200);
}
await loop(Number(times));
process.stdout.write(`done ${owner} ${owners.size}\n`);
process.exit(0);
