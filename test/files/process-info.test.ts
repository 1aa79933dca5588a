// Liveness of a process by pid and start time: what stale-lock recovery and
// session sweeps rely on to tell a live holder from a dead one or a reused pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { isProcessAlive, processRef, selfProcess } from '../../src/files/process-info.ts';

test('a running child is alive; once it has exited and been reaped it is not', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const ref = processRef(child.pid!);
  assert.equal(isProcessAlive(ref), true);
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(isProcessAlive(ref), false);
});

test('this process is alive, but a record of our pid with another start time is a reused pid, not us', { skip: process.platform !== 'linux' && 'start times come from /proc' }, () => {
  const me = selfProcess();
  assert.equal(isProcessAlive(me), true);
  assert.equal(isProcessAlive({ pid: process.pid, startTime: null }), true);
  assert.equal(isProcessAlive({ pid: process.pid, startTime: me.startTime! - 1 }), false);
});
