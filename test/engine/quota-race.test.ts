// Quotas under 8 racing processes (real child processes, the library in each)
// on one SQLite file and on PostgreSQL: four processes claim under each of two
// agent names (claims-per-agent 2) and four acquire leases for each of two
// shared sessions (leases-per-session 2). Replaying the event log in seq
// (commit) order, no agent ever held more than 2 claims and no session more
// than 2 leases, both reached 2, and every refusal was QUOTA_EXCEEDED naming
// its quota.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator, type BatonEvent, type Coordinator } from '../../src/index.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

const PROCS = 8;
const ROUNDS = Number(process.env.QUOTA_RACE_ROUNDS ?? 20);
const LIMIT = 2;
const script = worker('quota-racer');
const postgres = postgresPerFile('baton-pg-quota-race-');

interface Replay {
  /** The most each agent (claims) and each session (leases) held at once. */
  maxClaims: number;
  maxLeases: number;
  /** Each moment a quota did not hold: the event that broke it. */
  broken: string[];
  claims: number;
  leases: number;
}

/** Replays claims and leases from the log, in seq order, counting what each agent and session holds after every event. */
function replay(events: BatonEvent[], agentOf: Map<string, string>): Replay {
  const holder = new Map<string, string>(); // task id -> agent
  const held = new Map<string, number>(); // agent or session -> count
  const leaseOf = new Map<string, string>(); // key#token -> session
  const result: Replay = { maxClaims: 0, maxLeases: 0, broken: [], claims: 0, leases: 0 };
  const add = (who: string, by: number): number => {
    const n = (held.get(who) ?? 0) + by;
    held.set(who, n);
    return n;
  };
  for (const e of events) {
    if (e.type === 'task.claimed') {
      const agent = agentOf.get(e.actor!)!;
      holder.set(e.key!, agent);
      result.claims++;
      const n = add(`agent:${agent}`, 1);
      result.maxClaims = Math.max(result.maxClaims, n);
      if (n > LIMIT) result.broken.push(`seq ${e.seq}: agent ${agent} holds ${n} claims`);
    } else if (e.type.startsWith('task.') && holder.has(e.key!)) {
      // completed, released, requeued, failed, cancelled: the claim ended
      add(`agent:${holder.get(e.key!)!}`, -1);
      holder.delete(e.key!);
    } else if (e.type === 'lease.acquired' && typeof e.data.sessionId === 'string') {
      leaseOf.set(`${e.key}#${String(e.data.token)}`, e.data.sessionId);
      result.leases++;
      const n = add(`session:${e.data.sessionId}`, 1);
      result.maxLeases = Math.max(result.maxLeases, n);
      if (n > LIMIT) result.broken.push(`seq ${e.seq}: session ${e.data.sessionId} holds ${n} leases`);
    } else if (e.type === 'lease.released' || e.type === 'lease.expired') {
      const id = `${e.key}#${String(e.data.token)}`;
      const session = leaseOf.get(id);
      if (session === undefined) continue;
      add(`session:${session}`, -1);
      leaseOf.delete(id);
    }
  }
  return result;
}

async function raceCase(t: test.TestContext, url: string): Promise<void> {
  const c: Coordinator = await openCoordinator({ url });
  try {
    await c.setQuota({ quota: 'claims-per-agent', limit: LIMIT });
    await c.setQuota({ quota: 'leases-per-session', limit: LIMIT });
    await c.addTasks(Array.from({ length: PROCS * ROUNDS * 2 }, (_, i) => ({ title: `t${i}`, queue: 'race' })));
    const shared = [await c.register({ name: 'lease-group-0', ttlMs: 600_000, autoHeartbeat: false }), await c.register({ name: 'lease-group-1', ttlMs: 600_000, autoHeartbeat: false })];
    const started = performance.now();
    const procs = Array.from({ length: PROCS }, (_, i) => startNode(script, [url, String(i), String(ROUNDS), shared.map((s) => s.id).join(',')], { stdin: true }));
    await Promise.all(procs.map((p) => p.line('ready', 60_000)));
    for (const p of procs) p.child.stdin!.write('go\n');
    const finished = await Promise.all(procs.map((p) => p.done));
    const ms = performance.now() - started;
    for (const f of finished) assert.equal(f.code, 0, f.stderr);

    const refusals = procs.flatMap((p) => p.lines().filter((l) => l.startsWith('refused ')).map((l) => JSON.parse(l.slice('refused '.length)) as { code: string; quota: string; message: string }));
    for (const r of refusals) {
      assert.equal(r.code, 'QUOTA_EXCEEDED');
      assert.ok(['claims-per-agent', 'leases-per-session'].includes(r.quota), r.message);
      assert.ok(r.message.startsWith(`quota ${r.quota} `), `the message names the quota: ${r.message}`);
    }
    const agentOf = new Map((await c.listSessions({ includeEnded: true })).map((s) => [s.id, s.name]));
    const log = await c.events({ types: ['task.', 'lease.'], limit: 100_000 });
    const seen = replay(log, agentOf);
    const byQuota = (q: string) => refusals.filter((r) => r.quota === q).length;
    t.diagnostic(
      `${PROCS} processes, ${ROUNDS} rounds, ${Math.round(ms)} ms: ${seen.claims} claims and ${seen.leases} leases granted; ` +
        `refused ${byQuota('claims-per-agent')} claims and ${byQuota('leases-per-session')} leases; most held at once: ${seen.maxClaims} claims by an agent, ${seen.maxLeases} leases by a session`,
    );
    assert.deepEqual(seen.broken.slice(0, 5), [], `the quotas held at every moment (${seen.broken.length} moments broke them)`);
    assert.equal(seen.maxClaims, LIMIT, 'the race reached the claims quota');
    assert.equal(seen.maxLeases, LIMIT, 'the race reached the lease quota');
    assert.ok(byQuota('claims-per-agent') > 0 && byQuota('leases-per-session') > 0, 'both quotas refused something');
  } finally {
    await c.close();
  }
}

test(`SQLite file: ${PROCS} processes racing past claims-per-agent and leases-per-session never hold more than ${LIMIT}`, async (t) => {
  await raceCase(t, `sqlite:${join(tempDir(t), 'quota.db')}`);
});

test(`PostgreSQL: ${PROCS} processes racing past claims-per-agent and leases-per-session never hold more than ${LIMIT}`, async (t) => {
  await raceCase(t, await postgres.databases.fresh());
});
