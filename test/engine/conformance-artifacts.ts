// Conformance cases of task artifacts (docs/artifacts.md), run by conformance.ts on every backend and transport.
import assert from 'node:assert/strict';
import type { Artifact, Coordinator } from '../../src/index.ts';
import { MAX_ARTIFACT_JSON_BYTES, MAX_TASK_ARTIFACTS } from '../../src/limits.ts';
import type { WithCoordinator } from './conformance.ts';

const SHA1 = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const SHA256 = 'f'.repeat(64);

async function refused(promise: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    for (const m of mentions) assert.ok(error.message.includes(m), `message ${JSON.stringify(error.message)} should mention ${m}`);
    return true;
  });
}

/** A task added and claimed by a fresh session: its claim. */
async function claimed(c: Coordinator, title: string) {
  const s = await c.register({ name: `w-${title}`, autoHeartbeat: false });
  const task = await c.addTask({ title, queue: 'art' });
  const [claim] = await c.claimByIds(s.id, [task.id]);
  return claim!;
}

export function artifactConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('artifacts: a completion stores them with the task, in order; getTask and the event show them', async (c) => {
    const claim = await claimed(c, 'build');
    const given: Artifact[] = [
      { kind: 'commit', sha: SHA1.toUpperCase() },
      { kind: 'file', path: 'dist/app.js', sha256: SHA256 },
      { kind: 'url', url: 'https://ci.example/run/7' },
      { kind: 'json', value: { tests: 12, failed: 0 } },
    ];
    const done = await c.complete(claim, { ok: true }, { artifacts: given });
    const stored = [{ kind: 'commit', sha: SHA1 }, ...given.slice(1)];
    assert.equal(done.status, 'done');
    assert.deepEqual(done.artifacts, stored, 'a sha is stored lower-case');
    assert.deepEqual((await c.getTask(claim.taskId)).artifacts, stored);
    const plain = await c.addTask({ title: 'none', queue: 'art' });
    assert.deepEqual((await c.getTask(plain.id)).artifacts, [], 'a task without artifacts has an empty list');
    const [event] = (await c.events({ types: ['task.completed'] })).filter((e) => e.key === String(claim.taskId));
    assert.equal(event?.data.artifacts, 4, 'the event counts them');
  });

  withCoordinator('artifacts: listTasks finds tasks by a sha, a sha prefix of 7+ hex, a path, a url or a content hash', async (c) => {
    const one = await claimed(c, 'one');
    const two = await claimed(c, 'two');
    await c.complete(one, null, { artifacts: [{ kind: 'commit', sha: SHA1 }, { kind: 'file', path: 'a.txt', sha256: SHA256 }] });
    await c.completeMany([{ ...two, artifacts: [{ kind: 'commit', sha: SHA1 }, { kind: 'url', url: 'https://x.example/' }] }]);
    const ids = async (artifact: string, more: object = {}) => (await c.listTasks({ artifact, ...more })).map((t) => t.id);
    assert.deepEqual(await ids(SHA1), [one.taskId, two.taskId]);
    assert.deepEqual(await ids(SHA1.slice(0, 7)), [one.taskId, two.taskId], 'a 7-hex prefix, as git abbreviates');
    assert.deepEqual(await ids(SHA1.slice(0, 6)), [], 'a shorter prefix finds nothing');
    assert.deepEqual(await ids(SHA256.slice(0, 12).toUpperCase()), [one.taskId], 'a content hash prefix, any case');
    assert.deepEqual(await ids('a.txt'), [one.taskId]);
    assert.deepEqual(await ids('https://x.example/'), [two.taskId]);
    assert.deepEqual(await ids('https://x.example'), [], 'a url matches only whole');
    assert.deepEqual(await ids(SHA1, { limit: 1 }), [one.taskId]);
    assert.deepEqual(await ids(SHA1, { status: 'ready' }), []);
    assert.deepEqual(await ids(SHA1, { queue: 'other' }), []);
    const [found] = await c.listTasks({ artifact: 'a.txt' });
    assert.deepEqual(found?.artifacts, [{ kind: 'commit', sha: SHA1 }, { kind: 'file', path: 'a.txt', sha256: SHA256 }], 'found tasks carry their artifacts');
    // A removed task's artifacts go with it.
    await c.removeTask(one.taskId, found!.version);
    assert.deepEqual(await ids('a.txt'), []);
  });

  withCoordinator('artifacts: bad ones are INVALID_ARGUMENT naming the value, and the completion is not applied', async (c) => {
    const claim = await claimed(c, 'bad');
    await refused(c.complete(claim, 1, { artifacts: [{ kind: 'blob', sha: SHA1 } as unknown as Artifact] }), 'INVALID_ARGUMENT', 'blob');
    await refused(c.complete(claim, 1, { artifacts: [{ kind: 'commit', sha: 'not-hex-at-all' }] }), 'INVALID_ARGUMENT', 'not-hex-at-all');
    await refused(c.complete(claim, 1, { artifacts: [{ kind: 'commit', sha: SHA1.slice(0, 12) }] }), 'INVALID_ARGUMENT', SHA1.slice(0, 12));
    await refused(c.complete(claim, 1, { artifacts: [{ kind: 'file', path: 'x', sha256: 'zz' }] }), 'INVALID_ARGUMENT', '"zz"');
    await refused(c.complete(claim, 1, { artifacts: [{ kind: 'url', url: 'not a url' }] }), 'INVALID_ARGUMENT', 'not a url');
    const many = Array.from({ length: MAX_TASK_ARTIFACTS + 1 }, () => ({ kind: 'url' as const, url: 'https://x.example/' }));
    await refused(c.complete(claim, 1, { artifacts: many }), 'INVALID_ARGUMENT', String(MAX_TASK_ARTIFACTS));
    const big = { kind: 'json' as const, value: 'x'.repeat(MAX_ARTIFACT_JSON_BYTES) };
    await refused(c.complete(claim, 1, { artifacts: [big] }), 'INVALID_ARGUMENT', String(MAX_ARTIFACT_JSON_BYTES));
    // In a batch, the second item's bad artifact refuses the first item's completion too.
    const other = await claimed(c, 'other');
    await refused(c.completeMany([{ ...other, artifacts: [{ kind: 'commit', sha: SHA1 }] }, { ...claim, artifacts: [{ kind: 'commit', sha: 'xyz' }] }]), 'INVALID_ARGUMENT', 'xyz');
    for (const id of [claim.taskId, other.taskId]) {
      const task = await c.getTask(id);
      assert.equal(task.status, 'claimed', `task ${id} is still claimed`);
      assert.deepEqual(task.artifacts, []);
    }
    assert.deepEqual(await c.listTasks({ artifact: SHA1 }), []);
    // A stale claim refuses the completion and stores nothing.
    const done = await c.complete(claim, 1, { artifacts: [{ kind: 'commit', sha: SHA1 }] });
    assert.deepEqual(done.artifacts, [{ kind: 'commit', sha: SHA1 }]);
    await refused(c.complete(claim, 2, { artifacts: [{ kind: 'url', url: 'https://late.example/' }] }), 'STALE_TOKEN');
    assert.deepEqual((await c.getTask(claim.taskId)).artifacts, [{ kind: 'commit', sha: SHA1 }]);
    assert.deepEqual(await c.listTasks({ artifact: 'https://late.example/' }), []);
  });
}
