// Another process for the dashboard's tests and benchmark: an agent of the daemon that
// takes commands on stdin, one JSON object a line, and answers each on stdout.
//   {"id":1,"call":"acquire","args":["k",{"owner":"a"}]}  any Coordinator method → {"id":1,"ok":true,"result":...}
//   {"id":2,"hold":"k","owner":"a","ttlMs":30000}          withLease; renews every ~300 ms → {"id":2,"ok":true,"result":<lease>};
//                                                           later, once: {"lost":"k","code":"STALE_TOKEN","message":...}
//   {"id":3,"flood":{"rate":1000,"ms":10000,"queue":"q"}}  claim + complete tasks of queue q (two events each) at
//                                                           about `rate` events/s → {"id":3,"ok":true,"result":{"events","ms"}}
// Usage: ui-agent.ts <socket path>
import { createInterface } from 'node:readline';
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { Coordinator } from '../../src/coordinator.ts';
import { isBatonError } from '../../src/errors.ts';

const c = new RemoteCoordinator({ socketPath: process.argv[2]! });
const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

interface Command {
  id: number;
  call?: keyof Coordinator;
  args?: unknown[];
  hold?: string;
  owner?: string;
  ttlMs?: number;
  flood?: { rate: number; ms: number; queue: string };
}

async function hold(cmd: Command): Promise<unknown> {
  const key = cmd.hold!;
  return new Promise((resolve, reject) => {
    c.withLease(key, { owner: cmd.owner ?? 'ui-agent', ttlMs: cmd.ttlMs ?? 30_000 }, async (lease) => {
      resolve(lease);
      // The holder's handle: it keeps renewing, and says so when the store no longer knows the lease.
      for (;;) {
        await new Promise((r) => setTimeout(r, 300));
        try {
          await c.renew(lease, { ttlMs: cmd.ttlMs ?? 30_000 });
        } catch (error) {
          const code = isBatonError(error) ? error.code : 'ERROR';
          say({ lost: key, code, message: (error as Error).message });
          return;
        }
      }
    }).catch(reject);
  });
}

async function flood(spec: { rate: number; ms: number; queue: string }): Promise<unknown> {
  const session = await c.register({ name: 'flood', ttlMs: 60_000 });
  const started = performance.now();
  let events = 0;
  // Batches of claim n + completeMany: each task claimed and completed is two events.
  const batch = Math.max(1, Math.round(spec.rate / 2 / 50)); // ~50 batches a second
  while (performance.now() - started < spec.ms) {
    const due = ((performance.now() - started) / 1000) * spec.rate;
    if (events >= due) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const claims = await c.claim(session.id, { n: batch, queue: spec.queue });
    if (claims.length === 0) break;
    const done = await c.completeMany(claims.map((cl) => ({ taskId: cl.taskId, token: cl.token })));
    events += claims.length + done.length;
  }
  const ms = performance.now() - started;
  await c.endSession(session.id);
  return { events, ms };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  const cmd = JSON.parse(line) as Command;
  const work = cmd.hold !== undefined ? hold(cmd) : cmd.flood !== undefined ? flood(cmd.flood) : (c[cmd.call!] as (...a: unknown[]) => Promise<unknown>).apply(c, cmd.args ?? []);
  work.then(
    (result) => say({ id: cmd.id, ok: true, result: result ?? null }),
    (error: unknown) => say({ id: cmd.id, ok: false, code: isBatonError(error) ? error.code : 'ERROR', message: (error as Error).message }),
  );
});
lines.on('close', () => void c.close().then(() => process.exit(0)));
say({ ready: true });
