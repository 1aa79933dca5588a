// A key bound to a lease goes with its holder: a real process holds a lease
// bound to its session (which names its pid), puts a key bound to the lease,
// and is killed with -9. The sweeper's dead-pid check ends the session, the
// lease with it, and the key reads as absent; the same sweep deletes the key
// with its kv.deleted (reason: lease ended). Judged by state: one sweep after
// the death is enough (so the delay is at most the sweep interval); the time
// with the background sweeper (500 ms by default, due time plus jitter) is measured and
// reported, not judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator, type Coordinator } from '../../src/index.ts';
import { sleep, startNode, tempDir, worker } from '../helpers/procs.ts';

const script = worker('kv-lease-holder');

async function startHolder(url: string): Promise<{ kill: () => Promise<void>; revision: number; sessionId: string }> {
  const holder = startNode(script, [url]);
  const [, revision, sessionId] = (await holder.line('held', 30_000)).split(' ');
  return {
    revision: Number(revision),
    sessionId: sessionId!,
    kill: async () => {
      holder.child.kill('SIGKILL');
      await holder.done;
    },
  };
}

async function deletedEvent(c: Coordinator, after: number): Promise<Record<string, unknown> | undefined> {
  const events = await c.events({ after, types: ['kv.deleted'] });
  return events.find((e) => e.key === 'leader/who')?.data;
}

test('a leased key is gone after the first sweep that follows its holder\'s kill -9 (state, not time)', async (t) => {
  const url = `sqlite:${join(tempDir(t), 'kv.db')}`;
  // This observer never sweeps by itself: the test decides when the sweep happens.
  const c = await openCoordinator({ url, sweepIntervalMs: 3_600_000 });
  try {
    const holder = await startHolder(url);
    const before = await c.kvGet('leader/who');
    assert.equal(before?.revision, holder.revision);
    await holder.kill();
    // Nothing has swept since the death: the store still has the session, so the key still reads.
    assert.equal((await c.kvGet('leader/who'))?.revision, holder.revision, 'before any sweep the key is still there');
    await c.sweep();
    assert.equal(await c.kvGet('leader/who'), null, 'one sweep after the death: the key reads as absent');
    assert.deepEqual(await deletedEvent(c, holder.revision), {
      revision: (await c.events({ after: holder.revision, types: ['kv.deleted'] }))[0]!.seq,
      key: 'leader/who', prevRevision: holder.revision, reason: 'lease ended', lease: before?.lease,
    });
    const session = await c.getSession(holder.sessionId);
    assert.ok(session.endedAt !== null, 'the session was ended by the dead-pid check');
  } finally {
    await c.close();
  }
});

test('with the background sweeper, a leased key disappears soon after its holder\'s kill -9 (measured)', async (t) => {
  const url = `sqlite:${join(tempDir(t), 'kv.db')}`;
  const c = await openCoordinator({ url });
  try {
    const rounds: Array<{ absent: number; event: number }> = [];
    for (let round = 0; round < 3; round++) {
      const holder = await startHolder(url);
      const killedAt = performance.now();
      await holder.kill();
      let absent: number | undefined;
      let event: number | undefined;
      while ((absent === undefined || event === undefined) && performance.now() - killedAt < 10_000) {
        if (absent === undefined && (await c.kvGet('leader/who')) === null) absent = performance.now() - killedAt;
        if (event === undefined && (await deletedEvent(c, holder.revision))?.reason === 'lease ended') event = performance.now() - killedAt;
        await sleep(5);
      }
      assert.ok(absent !== undefined, 'the key disappeared');
      assert.ok(event !== undefined, 'its kv.deleted (lease ended) was written');
      rounds.push({ absent: Math.round(absent), event: Math.round(event) });
    }
    t.diagnostic(`kill -9 to absent / to kv.deleted, ms: ${rounds.map((r) => `${r.absent}/${r.event}`).join(', ')} (sweep interval 500 ms; a timer wakes when a sweep is due, plus up to 100 ms)`);
  } finally {
    await c.close();
  }
});
