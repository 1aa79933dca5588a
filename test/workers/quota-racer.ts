// One of the racers of test/engine/quota-race.test.ts: registers a session as
// agent-<index % 2> (so several processes claim under one agent's name) and,
// for `rounds` rounds, at once claims 1 or 2 tasks and acquires two leases
// for the session shared by its half of the racers, holds them a moment and
// lets go. Prints `refused <json>` for each QUOTA_EXCEEDED, then `done <claimed> <leases>`.
// Waits for 'go' on stdin.
import { isBatonError, openCoordinator, type Coordinator } from '../../src/index.ts';

const [url, index, rounds, leaseSessions] = process.argv.slice(2);
const me = Number(index);
const shared = leaseSessions!.split(',')[me % 2]!;
const c: Coordinator = await openCoordinator({ url: url! });
const session = await c.register({ name: `agent-${me % 2}`, ttlMs: 600_000, autoHeartbeat: false });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.stdin.once('data', () => resolve());
  process.stdin.once('end', () => resolve());
});
process.stdin.pause();

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * 3));
let claimed = 0;
let leases = 0;
const out: string[] = [];

function refusal(error: unknown): void {
  if (!isBatonError(error, 'QUOTA_EXCEEDED')) throw error;
  out.push(`refused ${JSON.stringify({ code: error.code, quota: error.details.quota, message: error.message })}`);
}

async function claimStep(): Promise<void> {
  try {
    const got = await c.claim(session.id, { queue: 'race', n: 1 + (Math.random() < 0.5 ? 1 : 0) });
    claimed += got.length;
    await pause();
    for (const claim of got) await c.complete(claim);
  } catch (error) {
    refusal(error);
  }
}

async function leaseStep(j: number): Promise<void> {
  try {
    const lease = await c.acquire(`k/${me}/${j}`, { owner: `racer-${me}`, sessionId: shared, timeoutMs: 0 });
    leases++;
    await pause();
    await c.release(lease);
  } catch (error) {
    refusal(error);
  }
}

for (let r = 0; r < Number(rounds); r++) await Promise.all([claimStep(), leaseStep(0), leaseStep(1)]);
await c.endSession(session.id);
process.stdout.write(`${out.join('\n')}\ndone ${claimed} ${leases}\n`);
await c.close();
