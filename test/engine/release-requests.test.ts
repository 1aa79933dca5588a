// Release requests where no sweep runs (a sweep interval of a day): a release
// itself answers nothing (the lease release path does no extra work), and a
// read of the requests writes nothing either (a read-scope token must not
// cause writes): it shows the request as it stands; the sweep records the
// answer and tells the asker, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCoordinator } from '../../src/index.ts';

test('a release leaves its requests to the sweeper; a read shows them released but writes nothing', async (t) => {
  const c = await openCoordinator({ url: 'sqlite::memory:', sweepIntervalMs: 24 * 3600_000 });
  t.after(() => c.close());
  const lease = await c.acquire('repo', { owner: 'alice' });
  const [r] = await c.requestRelease('repo', { from: 'bob', reason: 'tagging' });
  const lapsing = await c.acquire('db', { owner: 'carol' });
  const [l] = await c.requestRelease('db', { from: 'bob', reason: 'migrate', ttlMs: 1 });
  await c.release(lease);
  const answers = async () => (await c.inbox('bob')).filter((m) => m.kind === 'release-answer');
  const head = async () => (await c.events({ limit: 100_000 })).at(-1)!.seq;
  const before = await head();
  assert.deepEqual(await answers(), [], 'the release itself told nobody');
  // The lapse is by the store's clock: wait until a read shows it.
  let listed = await c.releaseRequests({ asker: 'bob' });
  for (let i = 0; listed.find((x) => x.id === l!.id)!.state === 'pending'; i++) {
    assert.ok(i < 3000, 'the request lapses');
    await new Promise((res) => setTimeout(res, 10));
    listed = await c.releaseRequests({ asker: 'bob' });
  }
  const byId = new Map(listed.map((x) => [x.id, x]));
  assert.deepEqual([byId.get(r!.id)!.state, byId.get(r!.id)!.answer, byId.get(r!.id)!.answeredAt], ['released', 'the hold ended', null]);
  assert.deepEqual([byId.get(l!.id)!.state, byId.get(l!.id)!.answeredAt], ['lapsed', null]);
  assert.equal(await head(), before, 'the read wrote no event');
  assert.deepEqual(await answers(), [], 'the read told nobody');

  await c.sweep();
  const told = await answers();
  assert.deepEqual(told.map((m) => m.ref).sort(), [String(r!.id), String(l!.id)].sort(), 'the sweep told the asker, once each');
  const recorded = await c.releaseRequests({ asker: 'bob' });
  assert.ok(recorded.every((x) => x.answeredAt !== null), 'recorded by the sweep');
  await c.sweep();
  assert.equal((await answers()).length, 2, 'told once');
  assert.equal((await c.checkLease(lapsing)).owner, 'carol', 'a lapse leaves the hold alone');
});
