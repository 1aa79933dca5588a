// The conformance suite on a SQLite file, as many processes would share it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { conformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
conformance('sqlite file', () => openCoordinator({ url: `sqlite:${join(dir, `db-${n++}.sqlite`)}` }));

test('a database path that cannot be created is a clear error, not a hang', { skip: !existsSync('/proc/self') }, async () => {
  // Node's recursive mkdir spins for ever on a missing directory under /proc.
  await assert.rejects(openCoordinator({ url: 'sqlite:/proc/no-such-dir/baton.db' }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /\/proc\/no-such-dir/);
    return true;
  });
});
