// One limit, every surface: the longest path a reservation may name is taken,
// and one character more refused, alike by the engine, the daemon's request
// schema (which the embedded CLI checks with too) and the MCP tools' input.
// Before the limits had one source, a 1,100-character glob passed
// reserve_paths over the daemon's /v1/mcp and failed over `baton mcp`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCoordinator } from '../../src/engine/open.ts';
import { isBatonError } from '../../src/errors.ts';
import { MAX_PATH_LENGTH, PATH_PREFIX } from '../../src/limits.ts';
import { toolsByName } from '../../src/mcp/tools/index.ts';
import { checkRequest } from '../../src/protocol/validation.ts';

const longest = 'd/'.repeat(MAX_PATH_LENGTH / 2 - 1) + 'ff'; // MAX_PATH_LENGTH characters
const tooLong = longest + 'f';

test('the longest reservable path passes every surface, one character more fails every one', async () => {
  assert.equal(longest.length, MAX_PATH_LENGTH);
  const reserve = toolsByName.get('reserve_paths')!;
  assert.ok(reserve.input.safeParse({ paths: [longest] }).success, 'the MCP tool takes it');
  assert.equal(reserve.input.safeParse({ paths: [tooLong] }).success, false, 'the MCP tool refuses one more');

  const body = (path: string) => ({ key: PATH_PREFIX + path, owner: 'agent', timeoutMs: 0 });
  assert.doesNotThrow(() => checkRequest('acquire', body(longest)), 'the wire schema takes it');
  assert.throws(() => checkRequest('acquire', body(tooLong)), (e: unknown) => isBatonError(e, 'INVALID_ARGUMENT'));

  const c = await openCoordinator({ url: 'sqlite::memory:' });
  try {
    const lease = await c.acquire(PATH_PREFIX + longest, { owner: 'agent', timeoutMs: 0 });
    assert.equal(lease.key, PATH_PREFIX + longest, 'the engine takes it');
    await assert.rejects(c.acquire(PATH_PREFIX + tooLong, { owner: 'agent', timeoutMs: 0 }), (e: unknown) => isBatonError(e, 'INVALID_ARGUMENT'));
  } finally {
    await c.close();
  }
});
