// The published result schemas (the same zod schemas /v1/openapi.json is made
// from) check real answers: every $ref resolves to a component, and a misfit
// names its field.
// The test suite runs every daemon with BATON_CHECK_RESPONSES=1, so each answer
// the other tests get has passed this check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApiDocument } from '../../src/protocol/openapi.ts';
import { resultProblem } from '../../src/protocol/validation.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

test('result schemas resolve their $refs and name the field that does not fit', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(`${dir}/.baton`, { cwd: dir });
  t.after(() => daemon.stop());
  const c = daemon.client();
  const lease = JSON.parse(JSON.stringify(await c.acquire('schema/key', { owner: 'me' })));
  assert.equal(resultProblem('acquire', lease), null);
  assert.equal(resultProblem('acquire', { ...lease, token: 'seven' }), 'result.token must be a whole number, got "seven"');
  assert.equal(resultProblem('acquire', { ...lease, extra: 1 }), 'result has an unknown field "extra"');
  const { owner: _owner, ...noOwner } = lease;
  assert.equal(resultProblem('acquire', noOwner), 'result.owner is required');
  const listed = JSON.parse(JSON.stringify(await c.listLeases({ prefix: 'schema/' })));
  assert.equal(resultProblem('listLeases', listed), null);
  assert.equal(resultProblem('listLeases', [lease, { ...lease, mode: 'both' }]), 'result[1].mode must be one of "exclusive", "shared", got "both"');
});

test('every $ref of the published document names one of its components', () => {
  const doc = openApiDocument('0.0.0') as { components: { schemas: Record<string, unknown> } };
  const refs = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') refs.add(v);
        else walk(v);
      }
    }
  };
  walk(doc);
  assert.ok(refs.has('#/components/schemas/Lease'), 'results refer to the Lease component');
  for (const ref of refs) {
    const name = ref.replace('#/components/schemas/', '');
    assert.ok(ref.startsWith('#/components/schemas/') && doc.components.schemas[name] !== undefined, `${ref} names no component`);
  }
});
