// Shared state through the official MCP SDK client: kv_put with
// expect_revision as a compare-and-swap between two agents, the CONFLICT an
// agent can act on, keys bound to a lock, kv_list and kv_delete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_MCP_KV_LIST_LIMIT } from '../../src/limits.ts';
import { mcpAgent, mcpProject, ok } from '../helpers/mcp.ts';

test('kv tools: two agents compare-and-swap one value; the loser gets CONFLICT with what to do; a lock-bound key goes with the lock', { timeout: 120_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-mcp-kv-');
  const alice = await mcpAgent(t, project, 'alice');
  const bob = await mcpAgent(t, project, 'bob');

  const missing = ok(await alice.call('kv_get', { key: 'release/version' }));
  assert.equal(missing.found, false);
  assert.match(String(missing.next), /expect_revision 0/);
  const created = ok(await alice.call('kv_put', { key: 'release/version', value: { v: '1.0.0' }, expect_revision: 0 }));
  assert.equal(created.version, 1);

  // Both read revision r; alice writes first; bob's swap is refused and tells him how to recover.
  const seenByBob = ok(await bob.call('kv_get', { key: 'release/version' }));
  assert.equal(seenByBob.revision, created.revision);
  ok(await alice.call('kv_put', { key: 'release/version', value: { v: '1.0.1' }, expect_revision: created.revision }));
  const refused = await bob.call('kv_put', { key: 'release/version', value: { v: '2.0.0' }, expect_revision: seenByBob.revision });
  assert.equal(refused.code, 'CONFLICT');
  assert.match(refused.text, /"release\/version" is at revision \d+; expected revision \d+/);
  assert.match(refused.text, /call kv_get for its current value and revision, .* expect_revision set to that revision; nothing was changed/);
  const again = ok(await bob.call('kv_get', { key: 'release/version' }));
  assert.deepEqual(again.value, { v: '1.0.1' });
  const won = ok(await bob.call('kv_put', { key: 'release/version', value: { v: '2.0.0' }, expect_revision: again.revision }));
  assert.equal(won.version, 3);
  assert.equal((await bob.call('kv_put', { key: 'release/version', value: 1, expect_revision: 0 })).code, 'CONFLICT', 'creating an existing key is refused');

  // Bound to a lock: the key lasts as long as the lock.
  assert.equal((await alice.call('kv_put', { key: 'deploy/by', value: 'alice', lock: 'deploy' })).code, 'STALE_TOKEN', 'a lock not held is refused');
  ok(await alice.call('acquire_lock', { name: 'deploy' }));
  const bound = ok(await alice.call('kv_put', { key: 'deploy/by', value: 'alice', lock: 'deploy' }));
  assert.equal(bound.lock, 'deploy');
  assert.deepEqual((ok(await bob.call('kv_list', { prefix: 'deploy/' })).entries as Array<{ key: string }>).map((e) => e.key), ['deploy/by']);
  ok(await alice.call('release_lock', { name: 'deploy' }));
  assert.equal(ok(await bob.call('kv_get', { key: 'deploy/by' })).found, false, 'gone with the lock');

  const listed = ok(await bob.call('kv_list', {}));
  assert.deepEqual((listed.entries as Array<{ key: string }>).map((e) => e.key), ['release/version']);
  assert.ok(Number(listed.revision) >= Number(won.revision));
  assert.equal((await alice.call('kv_delete', { key: 'release/version', expect_revision: created.revision })).code, 'CONFLICT');
  assert.equal(ok(await alice.call('kv_delete', { key: 'release/version', expect_revision: won.revision })).deleted, true);
  for (const [tool, args] of [['kv_put', { key: '', value: 1 }], ['kv_put', { key: 'k' }], ['kv_put', { key: 'k', value: 1, expect_revision: '1' }], ['kv_get', {}], ['kv_delete', { key: 'k', expect_revision: -1 }], ['kv_list', { limit: 'ten' }]] as const) {
    const bad = await alice.call(tool, args);
    assert.equal(bad.code, 'INVALID_ARGUMENT', `${tool} ${JSON.stringify(args)}: ${bad.text}`);
  }
  assert.equal(ok(await alice.call('kv_get', { key: 'k' })).found, false, 'nothing was written');

  // Paging: a page says there is more and how to go on; after goes on from the last key.
  for (const k of ['page/a', 'page/b', 'page/c']) ok(await alice.call('kv_put', { key: k, value: k }));
  const first = ok(await bob.call('kv_list', { prefix: 'page/', limit: 2 }));
  assert.deepEqual((first.entries as Array<{ key: string }>).map((e) => e.key), ['page/a', 'page/b']);
  assert.equal(first.more, true);
  assert.match(String(first.next), /after "page\/b"/);
  const rest = ok(await bob.call('kv_list', { prefix: 'page/', after: 'page/b' }));
  assert.deepEqual((rest.entries as Array<{ key: string }>).map((e) => e.key), ['page/c']);
  assert.equal(rest.more, undefined);
  assert.equal((await bob.call('kv_list', { limit: MAX_MCP_KV_LIST_LIMIT + 1 })).code, 'INVALID_ARGUMENT', 'an agent page is bounded');
});
