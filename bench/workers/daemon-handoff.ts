// Handoff of a contended lease through the daemon: processes take turns on one
// key with the SDK (RemoteCoordinator). Each logs when it asked, when its acquire
// resolved and when it began to release, on the clock every process on the machine shares
// (CLOCK_MONOTONIC). Usage: daemon-handoff.ts <socket> <key> <rounds> <budget ms>
// It stops after <rounds> turns or once <budget ms> have passed since 'go', whichever comes first.
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError } from '../../src/errors.ts';
import { readyThenGo, sharedClockMs } from './go.ts';

const [socketPath, key, roundsArg, budgetArg] = process.argv.slice(2) as [string, string, string, string];
const now = sharedClockMs;
const c = new RemoteCoordinator({ socketPath });
const owner = `handoff-${process.pid}`;
// Warm the connection and the code paths on a key of our own.
for (let i = 0; i < 50; i++) await c.release(await c.acquire(`${key}/warm/${process.pid}`, { owner }));
await readyThenGo();
const events: Array<[number, number, number]> = [];
const deadline = performance.now() + Number(budgetArg);
for (let i = 0; i < Number(roundsArg); i++) {
  const left = Math.ceil(deadline - performance.now());
  if (left <= 0) break;
  let lease;
  const asked = now();
  try {
    lease = await c.acquire(key, { owner, timeoutMs: left });
  } catch (error) {
    if (isBatonError(error, 'LOCK_TIMEOUT')) break;
    throw error;
  }
  const got = now();
  // Hold longer than we step aside below, so that whoever released last asks
  // again while the lease is held: every turn is then a handoff to a waiter.
  const until = performance.now() + 2;
  while (performance.now() < until);
  const releasing = now();
  await c.release(lease);
  events.push([asked, got, releasing]);
  // Step aside a moment so a waiter, not us, is the next holder.
  await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write(`events ${JSON.stringify(events)}\n`);
await c.close();
