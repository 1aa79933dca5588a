// Handoff benchmark: processes take turns on one lock; each logs when it asked
// for the lock, when it got it and when it began to release it (CLOCK_MONOTONIC, shared by every process).
import lockfile from 'proper-lockfile';
import { acquireLock } from '../../src/index.ts';
import { readyThenGo, sharedClockMs } from './go.ts';

const [impl, file, roundsArg] = process.argv.slice(2) as [string, string, string];
const now = sharedClockMs;
const events: Array<[number, number, number]> = [];
await readyThenGo();
for (let i = 0; i < Number(roundsArg); i++) {
  let release: () => Promise<void>;
  const asked = now();
  if (impl === 'baton') {
    const r = await acquireLock(file, { timeout: 60_000 });
    if (!r.success) throw new Error(r.message);
    release = () => r.handle.release();
  } else {
    release = await lockfile.lock(file, { retries: { retries: 10_000, factor: 1, minTimeout: 1, maxTimeout: 10 }, realpath: false });
  }
  const got = now();
  // Hold longer than we step aside below, so that whoever released last asks
  // again while the lock is held: every turn is then a handoff to a waiter (with
  // a shorter hold most turns found the lock free, and few handoffs were measured).
  const until = performance.now() + 2;
  while (performance.now() < until);
  const releasing = now();
  await release();
  events.push([asked, got, releasing]);
  // Step aside a moment so the waiter, not us, is the next holder.
  await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write(`events ${JSON.stringify(events)}\n`);
