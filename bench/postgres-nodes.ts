// Daemons as nodes on PostgreSQL, measured: a lease handed over from one
// daemon to a waiter on another (with LISTEN/NOTIFY, and with polling only)
// against the same handoff within one daemon, in the same run; and how long a
// dead daemon's lease takes to reach a waiter on another node, against its
// node TTL.
import { join } from 'node:path';
import type { RemoteCoordinator } from '../src/client/index.ts';
import { startDaemon, type RunningDaemon } from '../support/daemon.ts';
import type { Databases } from '../support/postgres.ts';

export interface NodesContext {
  work: string;
  trials: number;
  check(name: string, ok: boolean, detail: string): void;
}

const HANDOFFS = 100;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let made = 0;

async function daemon(ctx: NodesContext, url: string, ...args: string[]): Promise<RunningDaemon> {
  return startDaemon(join(ctx.work, `pg-node-${made++}`), { cwd: ctx.work, args: ['--store', url, ...args], env: { BATON_CHECK_RESPONSES: '0' } });
}

/** Release by `from`, grant to `to`'s waiter: ms from the release call to the waiter's answer, HANDOFFS times. */
async function handoffs(from: RemoteCoordinator, to: RemoteCoordinator, key: string): Promise<number[]> {
  const gaps: number[] = [];
  for (let i = 0; i < HANDOFFS + 10; i++) {
    const held = await from.acquire(key, { owner: 'a' });
    const waiting = to.acquire(key, { owner: 'b', timeoutMs: 30_000 }).then((lease) => ({ lease, at: performance.now() }));
    // The waiter is in line, and asleep: what a release must wake.
    while ((await from.getLease(key)).waiters.length === 0) await sleep(2);
    await sleep(20);
    const released = performance.now();
    await from.release(held);
    const { lease, at } = await waiting;
    if (i >= 10) gaps.push(at - released); // the first ten warm up
    await to.release(lease);
  }
  return gaps;
}

const show = (gaps: number[]): string => `p50 ${quantile(gaps, 0.5).toFixed(2)} ms, p99 ${quantile(gaps, 0.99).toFixed(2)} ms`;

/** Same node, across nodes with LISTEN/NOTIFY, across nodes polling only: one database each, in one run. */
export async function crossNodeHandoff(dbs: Databases, ctx: NodesContext): Promise<void> {
  console.log(`\nLease handoff between daemons over one PostgreSQL (release to the waiter's grant, ${HANDOFFS} handoffs each)`);
  const runs: Array<{ name: string; args: string[]; cross: boolean }> = [
    { name: 'same daemon', args: [], cross: false },
    { name: 'daemon A to daemon B, LISTEN/NOTIFY', args: [], cross: true },
    { name: 'daemon A to daemon B, polling only (--poll-only)', args: ['--poll-only'], cross: true },
  ];
  const results = new Map<string, number[]>();
  for (const run of runs) {
    const url = await dbs.fresh();
    const a = await daemon(ctx, url, ...run.args);
    const b = run.cross ? await daemon(ctx, url, ...run.args) : a;
    try {
      const gaps = await handoffs(a.client(), b.client(), 'bench');
      results.set(run.name, gaps);
      console.log(`  ${run.name.padEnd(52)} ${show(gaps)}`);
    } finally {
      await a.stop();
      if (b !== a) await b.stop();
    }
  }
  const same = quantile(results.get('same daemon')!, 0.5);
  const notified = quantile(results.get('daemon A to daemon B, LISTEN/NOTIFY')!, 0.5);
  const polled = quantile(results.get('daemon A to daemon B, polling only (--poll-only)')!, 0.5);
  console.log(`  cross-node p50 / same-node p50: ${(notified / same).toFixed(2)}x with LISTEN/NOTIFY, ${(polled / same).toFixed(2)}x polling only`);
  ctx.check('cross-node handoff with LISTEN/NOTIFY beats polling', notified < polled, `p50 ${notified.toFixed(2)} ms vs ${polled.toFixed(2)} ms polling`);
}

/** kill -9 of the daemon whose client holds a session-bound lease: ms until a waiter on another daemon has it. */
export async function recovery(dbs: Databases, ctx: NodesContext): Promise<void> {
  const ttls = [1_000, 3_000];
  console.log(`\nRecovery: kill -9 of a daemon, to its client's lease granted to a waiter on another daemon (${ctx.trials} trials each)`);
  for (const ttlMs of ttls) {
    const took: number[] = [];
    for (let trial = 0; trial < ctx.trials; trial++) {
      const url = await dbs.fresh();
      const ttl = ['--node-ttl', String(ttlMs / 1000)];
      const doomed = await daemon(ctx, url, ...ttl);
      const survivor = await daemon(ctx, url, ...ttl);
      try {
        const holder = doomed.client();
        const session = await holder.register({ name: 'holder' });
        await holder.acquire('work', { owner: 'holder', sessionId: session.id, ttlMs: 0 });
        const waiting = survivor.client().acquire('work', { owner: 'waiter', timeoutMs: 60_000 });
        // A kill at a random point of the node's heartbeat period.
        await sleep(200 + Math.random() * (ttlMs / 3));
        const killed = performance.now();
        await doomed.kill();
        await waiting;
        took.push(performance.now() - killed);
      } finally {
        await survivor.stop();
      }
    }
    const worst = Math.max(...took);
    console.log(`  node TTL ${ttlMs} ms: ${took.map((t) => t.toFixed(0)).join(', ')} ms (worst ${(worst / ttlMs).toFixed(2)}x the TTL)`);
    // The bound: the node TTL plus one sweep (500 ms), with room for a heartbeat's own period.
    ctx.check(`recovery within node TTL + one sweep (TTL ${ttlMs} ms)`, worst <= ttlMs + 500 + 250, `worst ${worst.toFixed(0)} ms, bound ${ttlMs + 500} ms (+250 ms slack for a loaded machine)`);
  }
}
