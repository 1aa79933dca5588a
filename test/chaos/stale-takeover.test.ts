// The race behind proper-lockfile #121: many waiters find the same dead
// holder at the same moment and all try to reclaim it. Exactly one may win;
// no two may ever hold the lock at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processStartTime } from '../../src/files/process-info.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

function deadProcess(): { pid: number; startTime: number } {
  // A process that has come and gone: its PID is free (reuse within the test is negligible, and would only make the holder look alive).
  const r = spawnSync('sh', ['-c', 'echo $$; cat /proc/$$/stat']);
  const [pid, stat] = r.stdout.toString().split('\n');
  const fields = stat!.slice(stat!.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(pid), startTime: Number(fields[19]) };
}

test('8 processes reclaiming the same dead holder at once: one winner, never two holders', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const rounds = 12;
  for (let round = 0; round < rounds; round++) {
    const resource = join(dir, `r${round}`);
    const log = join(dir, `log${round}.txt`);
    const dead = deadProcess();
    assert.equal(processStartTime(dead.pid), undefined, 'the planted holder is gone');
    const ownerId = `${Date.now().toString(36).padStart(9, '0')}deadbeef`;
    const record = {
      version: 1, ownerId, type: 'exclusive', resource, pid: dead.pid, ppid: 1, uid: 0, hostname: hostname(), startTime: dead.startTime,
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidNamespace: readlinkSync('/proc/self/ns/pid'),
      acquiredAt: new Date().toISOString(), ttlMs: null, children: [],
    };
    writeFileSync(`${resource}.lock.${ownerId}`, JSON.stringify(record), { mode: 0o600 });
    linkSync(`${resource}.lock.${ownerId}`, `${resource}.lock`);

    const procs = Array.from({ length: 8 }, () => startNode(worker('lease-log'), [resource, log, '3', 'exclusive'], { stdin: true, env: { BARRIER: '1' } }));
    await Promise.all(procs.map((p) => p.line('ready', 30_000)));
    for (const p of procs) p.child.stdin!.write('go\n');
    for (const p of procs) assert.equal((await p.done).code, 0);

    const spans = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ').map(Number));
    assert.equal(spans.length, 24);
    spans.sort((a, b) => a[2]! - b[2]!);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i]![2]! >= spans[i - 1]![3]!, `round ${round}: two holders at once after a stale takeover: ${JSON.stringify(spans[i - 1])} then ${JSON.stringify(spans[i])}, overlap ${spans[i - 1]![3]! - spans[i]![2]!} ms`);
    }
  }
});
