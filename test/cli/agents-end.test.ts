// baton agents end <id>: a hung agent's session ended by hand, so its leases
// and claims come back now rather than when its heartbeat lapses. On the
// embedded store of a scratch state directory, through the real CLI.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCoordinator } from '../../src/engine/open.ts';
import { statePaths } from '../../src/project/state-dir.ts';
import { baton, tempDir } from '../helpers/procs.ts';

test('baton agents end <id> frees the session\'s lease and requeues its claim at once, with the reason given; bad input is one line', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const run = (...args: string[]) => baton(['agents', ...args, '--state-dir', stateDir], { env: { BATON_NO_DAEMON: '1' } });
  mkdirSync(stateDir, { recursive: true });
  const c = await openCoordinator({ url: `sqlite:${statePaths(stateDir).database}` });
  t.after(() => c.close());
  const hung = await c.register({ name: 'hung-agent', ttlMs: 3_600_000 });
  await c.acquire('src/auth', { owner: 'hung-agent', sessionId: hung.id, ttlMs: 0 });
  await c.addTask({ title: 'migrate auth' });
  const [claim] = await c.claim(hung.id, { leaseMs: 3_600_000 });

  const ended = await run('end', hung.id, '--reason', 'agent hung');
  assert.equal(ended.code, 0, ended.stderr);
  assert.equal(ended.stdout, `ended session ${hung.id}\n`);
  assert.deepEqual(await c.listLeases(), [], 'its lease is free');
  assert.equal((await c.getTask(claim!.taskId)).status, 'ready', 'its claimed task is back in the queue');
  const listed = await run('--all');
  assert.match(listed.stdout, /hung-agent.*ended .*: agent hung/);

  for (const [args, code, says] of [
    [['end', 'no-such-session'], 1, /no-such-session.*\[NOT_FOUND\]/],
    [['end'], 2, /missing <session id>/],
    [['end', hung.id, 'extra'], 2, /unexpected argument "extra"/],
    [['--reason', 'why'], 2, /--reason goes with end/],
  ] as const) {
    const bad = await run(...args);
    assert.equal(bad.code, code, `${args.join(' ')}: ${bad.stderr}`);
    assert.equal(bad.stderr.trim().split('\n').length <= 2, true, bad.stderr);
    assert.match(bad.stderr, says);
  }
});
