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

test('a waiter that gives up after a release handed it the lease passes it on to the next in line', async () => {
  const url = `sqlite:${join(dir, 'handoff-give-up.sqlite')}`;
  const [holder, quitter, patient] = await Promise.all([openCoordinator({ url }), openCoordinator({ url }), openCoordinator({ url })]);
  try {
    const a = await holder.acquire('give-up', { owner: 'a' });
    const abort = new AbortController();
    const quitting = quitter.acquire('give-up', { owner: 'quitter', timeoutMs: 10_000, signal: abort.signal });
    while ((await holder.getLease('give-up')).waiters.length < 1) await new Promise((r) => setTimeout(r, 5));
    const next = patient.acquire('give-up', { owner: 'patient', timeoutMs: 10_000 });
    while ((await holder.getLease('give-up')).waiters.length < 2) await new Promise((r) => setTimeout(r, 5));
    await holder.release(a);
    // Handed to the quitter in the release's commit; it gives up before it ever looks.
    assert.deepEqual((await holder.getLease('give-up')).holders.map((h) => h.owner), ['quitter']);
    abort.abort();
    await assert.rejects(quitting, (error: Error & { code?: string }) => error.code === 'ABORTED');
    const lease = await next;
    assert.equal(lease.owner, 'patient');
    assert.deepEqual((await holder.getLease('give-up')).holders.map((h) => h.owner), ['patient']);
    const released = (await holder.events({ types: ['lease.released'] })).filter((e) => e.key === 'give-up').map((e) => e.actor);
    assert.deepEqual(released, ['a', 'quitter']);
  } finally {
    await Promise.all([holder.close(), quitter.close(), patient.close()]);
  }
});
