// The fuzzer's generator against the daemon's own body check (in process, no
// daemon): a body built to fit its schema passes checkRequest, and one built
// to break it is refused, for every operation. A disagreement is a bug in the
// generator, or a published schema that says other than the check does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { BatonError } from '../../src/errors.ts';
import { openApiDocument } from '../../src/protocol/openapi.ts';
import { isOperationName } from '../../src/protocol/operations.ts';
import { checkRequest } from '../../src/protocol/validation.ts';
import { operationRequest, publishedOperations } from '../../support/fuzz/requests.ts';
import { DEFAULT_SEED } from '../../support/fuzz/settings.ts';
import { encode, type Ref } from '../../support/fuzz/wire-value.ts';

/** Stand-ins for the run's entities: plausible values of their types. */
const stand = (ref: Ref): unknown =>
  ({ session: { id: 'a-session' }, task: { id: 1, version: 1 }, claim: { taskId: 1, token: 1 }, lease: { key: 'k', token: 1 }, pathLease: { key: 'path:**', token: 1 }, reservation: { id: 'r' }, queue: { name: 'q' }, worktree: '/tmp/w', sentinelDir: '/tmp/s', sentinelFile: '/tmp/s/f', idempotencyKey: 'k' } as Record<string, unknown>)[ref.fixture];
const resolve = (ref: Ref): unknown => {
  const value = stand(ref);
  return ref.field === undefined ? value : (value as Record<string, unknown>)[ref.field];
};

const { operations, components } = publishedOperations(openApiDocument('0'));

function verdict(name: string, body: unknown): string | undefined {
  if (!isOperationName(name)) throw new Error(`not an operation: ${name}`);
  try {
    checkRequest(name, body);
    return undefined;
  } catch (error) {
    if (error instanceof BatonError) return error.message;
    throw error;
  }
}

test('fitting bodies pass the body check and mutated ones are refused, for every operation', () => {
  assert.ok(operations.length > 40);
  for (const op of operations) {
    for (const mutate of [0, 2]) {
      fc.assert(
        fc.property(operationRequest(op, components, mutate), (request) => {
          const body: unknown = JSON.parse(encode(request.body ?? null, resolve).toString('utf8'));
          const schemaRefusals = request.refusals;
          const refused = verdict(op.name, body);
          if (schemaRefusals.length === 0) assert.equal(refused, undefined, `fits its schema, yet refused: ${refused}`);
          else assert.notEqual(refused, undefined, `breaks its schema (${schemaRefusals.join('; ')}), yet passed`);
        }),
        { seed: DEFAULT_SEED, numRuns: 60 },
      );
    }
  }
});
