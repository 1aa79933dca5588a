// The SDK's own idempotency keys: UUIDv7, so keys sort by the time they were made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newIdempotencyKey } from '../../src/client/idempotency-key.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('generated idempotency keys are UUIDv7: unique, stamped with the time, later keys sort after earlier ones', async () => {
  const keys = new Set<string>();
  const before = Date.now();
  for (let i = 0; i < 20_000; i++) {
    const key = newIdempotencyKey();
    assert.match(key, V7);
    keys.add(key);
  }
  assert.equal(keys.size, 20_000, 'no key repeats');
  const key = newIdempotencyKey();
  const stamped = parseInt(key.slice(0, 8) + key.slice(9, 13), 16);
  assert.ok(stamped >= before && stamped <= Date.now(), `the key carries the time it was made: ${stamped}`);
  await new Promise((resolve) => setTimeout(resolve, 3));
  const later = newIdempotencyKey();
  assert.ok(later > key, `${later} sorts after ${key}`);
});
