// The published result schemas (the same objects as in /v1/openapi.json) check
// real answers: $refs resolve to the components, and a misfit names its field.
// The test suite runs every daemon with BATON_CHECK_RESPONSES=1, so each answer
// the other tests get has passed this check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { components, operationsByName } from '../../src/protocol/operations.ts';
import { validate } from '../../src/protocol/schema.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

test('result schemas resolve their $refs and name the field that does not fit', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(`${dir}/.baton`, { cwd: dir });
  t.after(() => daemon.stop());
  const c = daemon.client();
  const lease = JSON.parse(JSON.stringify(await c.acquire('schema/key', { owner: 'me' })));
  const acquire = operationsByName.get('acquire')!.result;
  assert.equal(validate(acquire, lease, 'result', components), null);
  assert.equal(validate(acquire, { ...lease, token: 'seven' }, 'result', components), 'result.token must be a whole number, got "seven"');
  assert.equal(validate(acquire, { ...lease, extra: 1 }, 'result', components), 'result has an unknown field "extra"');
  const { owner: _owner, ...noOwner } = lease;
  assert.equal(validate(acquire, noOwner, 'result', components), 'result.owner is required');
  assert.match(validate(acquire, lease, 'result', {})!, /names #\/components\/schemas\/Lease, which is not defined/);
  const listed = JSON.parse(JSON.stringify(await c.listLeases({ prefix: 'schema/' })));
  assert.equal(validate(operationsByName.get('listLeases')!.result, listed, 'result', components), null);
  assert.equal(validate(operationsByName.get('listLeases')!.result, [lease, { ...lease, mode: 'both' }], 'result', components), 'result[1].mode must be one of "exclusive", "shared", got "both"');
});
