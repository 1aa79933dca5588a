// Conformance cases of release requests, run by conformance.ts on every backend and transport.
// Outcomes are judged by state: after c.sweep(), never by time. A read shows what is due as it stands but records and tells nothing.
import assert from 'node:assert/strict';
import type { Coordinator, InboxEntry, ReleaseRequest } from '../../src/index.ts';
import { rejectsWith, type WithCoordinator } from './conformance.ts';

const ofKind = (entries: InboxEntry[], kind: string): InboxEntry[] => entries.filter((e) => e.kind === kind);

async function only(c: Coordinator, id: number): Promise<ReleaseRequest> {
  const found = (await c.releaseRequests()).filter((r) => r.id === id);
  assert.equal(found.length, 1, `request ${id} is listed once`);
  return found[0]!;
}

export function releaseConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('release request: the holder is asked in its inbox once; once it releases, the sweep tells the asker', async (c) => {
    const alice = await c.register({ name: 'alice' });
    const lease = await c.acquire('repo', { owner: 'alice: fixing the build', sessionId: alice.id });
    const [made, ...more] = await c.requestRelease('repo', { from: 'bob', reason: 'I need to tag a release' });
    assert.equal(more.length, 0);
    assert.deepEqual(
      { key: made!.key, token: made!.token, holder: made!.holder, asker: made!.asker, state: made!.state, answer: made!.answer },
      { key: 'repo', token: lease.token, holder: 'alice', asker: 'bob', state: 'pending', answer: null },
      'recorded per hold, under the name the holder registered',
    );
    assert.ok(made!.expiresAt > made!.createdAt);
    // The same asker again for the same hold: the same request, and the holder is not told twice.
    const [again] = await c.requestRelease('repo', { from: 'bob', reason: 'still need it' });
    assert.equal(again!.id, made!.id);
    const asked = ofKind(await c.inbox('alice'), 'release-request');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.from, 'bob');
    assert.equal(asked[0]!.ref, 'repo');
    assert.equal(asked[0]!.thread, made!.thread);
    assert.ok(asked[0]!.subject.includes(`release request ${made!.id}`) && asked[0]!.subject.includes('repo'), asked[0]!.subject);
    assert.ok(asked[0]!.body.includes('I need to tag a release'), asked[0]!.body);
    const requested = (await c.events({ types: ['release.requested'] })).map((e) => e.data);
    assert.deepEqual(requested.map((d) => [d.id, d.holder, d.asker, d.token]), [[made!.id, 'alice', 'bob', lease.token]]);

    await c.release(lease);
    await c.sweep();
    // The sweep told the asker.
    const told = ofKind(await c.inbox('bob'), 'release-answer');
    assert.equal(told.length, 1);
    assert.equal(told[0]!.from, 'alice');
    assert.equal(told[0]!.ref, String(made!.id));
    assert.equal(told[0]!.thread, made!.thread, 'the answer is in the request thread');
    const answered = (await c.events({ types: ['release.answered'] })).map((e) => e.data);
    assert.deepEqual(answered, [{ id: made!.id, key: 'repo', answer: 'released', by: 'alice', reason: 'the hold ended' }]);
    const after = await only(c, made!.id);
    assert.equal(after.state, 'released');
    assert.ok(after.answeredAt !== null);
    // The holder saying so afterwards agrees with what was recorded.
    assert.equal((await c.answerRelease(made!.id, { from: 'alice', answer: 'released' })).state, 'released');
    assert.equal(ofKind(await c.inbox('bob'), 'release-answer').length, 1, 'the asker is told once');
  });

  withCoordinator('release request: a read shows a request whose hold ended as released (expiry, session end, force-release); the sweep records it and tells the asker', async (c) => {
    const s = await c.register({ name: 'sam' });
    await c.acquire('a', { owner: 'sam', sessionId: s.id, ttlMs: 0 });
    await c.acquire('b', { owner: 'tess' });
    const ids = [(await c.requestRelease('a', { from: 'bob', reason: 'r' }))[0]!.id, (await c.requestRelease('b', { from: 'bob', reason: 'r' }))[0]!.id];
    // Long enough to be asked about on a loaded machine, short enough to wait out.
    const short = await c.acquire('c', { owner: 'uma', ttlMs: 2000 });
    ids.push((await c.requestRelease('c', { from: 'bob', reason: 'r' }))[0]!.id);
    await c.endSession(s.id);
    await c.forceRelease('b', { reason: 'admin' });
    // The lease on c lapses by the store's clock: wait until it reads as gone.
    for (let i = 0; (await c.getLease('c')).holders.some((h) => h.token === short.token); i++) {
      assert.ok(i < 3000, 'the lease on c lapses');
      await new Promise((r) => setTimeout(r, 10));
    }
    const read = (await c.releaseRequests({ asker: 'bob' })).filter((r) => ids.includes(r.id));
    assert.deepEqual(read.map((r) => r.state), ['released', 'released', 'released'], 'a read shows them as they stand now');
    assert.deepEqual((await c.releaseRequests({ asker: 'bob', state: 'released' })).map((r) => r.id).sort(), [...ids].sort(), 'the state filter sees it too');
    assert.deepEqual(await c.releaseRequests({ asker: 'bob', state: 'pending' }), []);
    await c.sweep();
    assert.equal(ofKind(await c.inbox('bob'), 'release-answer').length, 3, 'the sweep told the asker');
    assert.ok((await c.releaseRequests({ asker: 'bob' })).every((r) => r.state === 'released' && r.answeredAt !== null));
  });

  withCoordinator('release request: a decline tells the asker; only the holder answers, and released only once it let go', async (c) => {
    await c.acquire('deploy', { owner: 'carol' });
    const [r] = await c.requestRelease('deploy', { from: 'dave', reason: 'hotfix', ttlMs: 60_000 });
    await rejectsWith(c.answerRelease(r!.id, { from: 'dave', answer: 'declined' }), 'PERMISSION_DENIED', '"carol"');
    await rejectsWith(c.answerRelease(r!.id, { from: 'carol', answer: 'released' }), 'CONFLICT', 'release it first');
    const declined = await c.answerRelease(r!.id, { from: 'carol', answer: 'declined', reason: 'mid-deploy, 5 more minutes' });
    assert.equal(declined.state, 'declined');
    assert.equal(declined.answer, 'mid-deploy, 5 more minutes');
    assert.equal((await c.answerRelease(r!.id, { from: 'carol', answer: 'declined' })).state, 'declined', 'the same answer again changes nothing');
    await rejectsWith(c.answerRelease(r!.id, { from: 'carol', answer: 'released' }), 'CONFLICT', 'answered already');
    const told = ofKind(await c.inbox('dave'), 'release-answer');
    assert.equal(told.length, 1);
    assert.equal(told[0]!.from, 'carol');
    assert.ok(told[0]!.body.includes('mid-deploy, 5 more minutes'), told[0]!.body);
    const answered = (await c.events({ types: ['release.answered'] })).map((e) => e.data);
    assert.deepEqual(answered, [{ id: r!.id, key: 'deploy', answer: 'declined', by: 'carol', reason: 'mid-deploy, 5 more minutes' }]);
    assert.deepEqual((await c.releaseRequests({ holder: 'carol', state: 'declined' })).map((x) => x.id), [r!.id]);
    assert.deepEqual(await c.releaseRequests({ holder: 'carol', state: 'pending' }), []);
    // A declined request is no longer pending: asking again makes a new one.
    const [next] = await c.requestRelease('deploy', { from: 'dave', reason: 'please' });
    assert.notEqual(next!.id, r!.id);
  });

  withCoordinator('release request: unanswered, it lapses after ttlMs and the asker is told', async (c) => {
    const held = await c.acquire('db', { owner: 'erin', ttlMs: 60_000 });
    const [r] = await c.requestRelease('db', { from: 'finn', reason: 'migration', ttlMs: 1 });
    // The sweep answers it once its time ran out by the store's clock; judged by the asker's inbox.
    for (let i = 0; ofKind(await c.inbox('finn'), 'release-answer').length === 0; i++) {
      assert.ok(i < 3000, 'the request lapses');
      await new Promise((res) => setTimeout(res, 10));
      await c.sweep();
    }
    assert.equal((await only(c, r!.id)).state, 'lapsed');
    const told = ofKind(await c.inbox('finn'), 'release-answer');
    assert.equal(told.length, 1);
    assert.ok(told[0]!.subject.includes('db'), told[0]!.subject);
    const answered = (await c.events({ types: ['release.answered'] })).map((e) => e.data);
    assert.deepEqual(answered, [{ id: r!.id, key: 'db', answer: 'lapsed', by: null, reason: null }]);
    await rejectsWith(c.answerRelease(r!.id, { from: 'erin', answer: 'declined' }), 'CONFLICT', 'lapsed');
    assert.equal((await c.checkLease(held)).owner, 'erin', 'the hold itself is untouched');
  });

  withCoordinator('release request: every conflicting holder is asked (shared holders, overlapping paths), not the asker itself', async (c) => {
    await c.acquire('cache', { owner: 'r1', mode: 'shared' });
    await c.acquire('cache', { owner: 'r2', mode: 'shared' });
    await c.acquire('cache', { owner: 'me', mode: 'shared' });
    const asked = await c.requestRelease('cache', { from: 'me', reason: 'rebuild' });
    assert.deepEqual(asked.map((r) => r.holder).sort(), ['r1', 'r2'], 'one request per other holder');
    const path = await c.acquire('path:src/**', { owner: 'gus' });
    const [p] = await c.requestRelease('path:src/auth/login.ts', { from: 'hal', reason: 'auth fix' });
    assert.deepEqual([p!.key, p!.token, p!.holder], ['path:src/**', path.token, 'gus'], 'the overlapping hold is asked');
    const note = ofKind(await c.inbox('gus'), 'release-request')[0]!;
    assert.ok(note.body.includes('path:src/auth/login.ts'), 'the holder learns what was wanted');
    assert.deepEqual((await c.releaseRequests({ key: 'path:src/**' })).map((r) => r.id), [p!.id]);
  });

  withCoordinator('release request: bad input is refused, naming what is wrong, and nothing is asked', async (c) => {
    await rejectsWith(c.requestRelease('free', { from: 'ivy', reason: 'r' }), 'NOT_FOUND', 'no one to ask');
    await c.acquire('mine', { owner: 'ivy' });
    await rejectsWith(c.requestRelease('mine', { from: 'ivy', reason: 'r' }), 'INVALID_ARGUMENT', 'itself');
    await rejectsWith(c.requestRelease('mine', { from: 'jo', reason: 'x'.repeat(1025) }), 'INVALID_ARGUMENT', '1024');
    await rejectsWith(c.requestRelease('mine', { from: 'jo', reason: '' }), 'INVALID_ARGUMENT', 'reason');
    await rejectsWith(c.requestRelease('mine', { from: 'jo', reason: 'r', ttlMs: 0 }), 'INVALID_ARGUMENT', 'ttlMs');
    await rejectsWith(c.requestRelease('mine', { from: 'jo', reason: 'r', ttlMs: 24 * 3600_000 + 1 }), 'INVALID_ARGUMENT', 'ttlMs');
    await rejectsWith(c.requestRelease('mine', { reason: 'r' } as never), 'INVALID_ARGUMENT', 'from');
    await rejectsWith(c.answerRelease(999_999, { from: 'ivy', answer: 'declined' }), 'NOT_FOUND', '999999');
    await rejectsWith(c.answerRelease(1, { from: 'ivy', answer: 'maybe' as never }), 'INVALID_ARGUMENT', 'answer');
    await rejectsWith(c.releaseRequests({ state: 'open' as never }), 'INVALID_ARGUMENT', 'state');
    assert.deepEqual(await c.releaseRequests(), []);
    assert.deepEqual(ofKind(await c.inbox('ivy'), 'release-request'), []);
  });
}
