import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, readLock } from '../../src/index.ts';
import { baton, sleep, start, startNode, tempDir, worker } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';

test('--help on every command; usage errors are one line and exit 2', async () => {
  for (const args of [['--help'], ['help'], ['lock', '--help'], ['run', '--help'], ['help', 'run']]) {
    const r = await baton(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: baton/);
  }
  const version = await baton(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  for (const args of [['nope'], ['run', '--', 'true'], ['run', '--lock', 'x'], ['lock', 'status'], ['lock', 'frob', 'x'], ['run', '--lock', 'x', '--timeout', '-1', '--', 'true'], ['lock', 'status', 'x', '--bogus']]) {
    const r = await baton(args);
    assert.equal(r.code, 2, `${args.join(' ')} exits 2`);
    assert.match(r.stderr, /^baton: /, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  const r = await baton(['run', '--lock', 'x', '--timeout', 'soon', '--', 'true']);
  assert.equal(r.stderr.split('\n')[0], 'baton: --timeout must be a number of seconds >= 0, got "soon" [INVALID_ARGUMENT]');
  // A negative number is a bad value, not an unknown option.
  const negative = await baton(['run', '--lock', 'x', '--ttl', '-5', '--', 'true']);
  assert.equal(negative.stderr, 'baton: --ttl must be a number of seconds > 0, got "-5" [INVALID_ARGUMENT]\n');
  const zero = await baton(['run', '--lock', 'x', '--ttl', '0', '--', 'true']);
  assert.equal(zero.code, 2);
  const json = await baton(['lock', 'status', '/no/such/dir/file', '--json']);
  assert.equal(json.code, 0, 'status of a lock in a missing directory is just unlocked');
  const missingDir = await baton(['run', '--lock', '/no/such/dir/file', '--', 'true']);
  assert.equal(missingDir.code, 1);
  assert.equal(missingDir.stderr, 'baton: cannot lock /no/such/dir/file: directory /no/such/dir does not exist [NOT_FOUND]\n');
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  mkdirSync(join(dir, 'x.lock'));
  const failing = await baton(['lock', 'status', join(dir, 'x'), '--json']);
  assert.equal(failing.code, 1);
  assert.deepEqual(JSON.parse(failing.stderr).error.code, 'IS_A_DIRECTORY');
  // The command's own --json is not baton's: the error is still one readable line.
  const theirs = await baton(['run', '--lock', join(dir, 'x'), '--', 'echo', '--json']);
  assert.match(theirs.stderr, /^baton: [^\n]*\[IS_A_DIRECTORY\]\n$/);
  // A file where a directory should be is named as such.
  writeFileSync(join(dir, 'plain'), '');
  const notDir = await baton(['run', '--lock', join(dir, 'plain', 'x'), '--', 'true']);
  assert.equal(notDir.code, 1);
  assert.equal(notDir.stderr, `baton: cannot lock ${join(dir, 'plain', 'x')}: directory ${join(dir, 'plain')} is not a directory (or a directory above it is not) [NOT_FOUND]\n`);
  rmSync(dir, { recursive: true });
});

test('baton run --shared: shared runs overlap, an exclusive one waits for them', async (t) => {
  const dir = tempDir(t);
  const r = join(dir, 'r');
  const marks = join(dir, 'marks');
  const go = join(dir, 'go');
  // Each run notes its start, then holds until the test creates `go` (no timing), then notes its end.
  const run = (shared: boolean, name: string) =>
    start(process.execPath, [cli, 'run', '--lock', r, ...(shared ? ['--shared'] : []), '--', 'sh', '-c', `echo "start ${name}" >> "${marks}"; while [ ! -e "${go}" ]; do sleep 0.02; done; echo "end ${name}" >> "${marks}"`]);
  const started = (): string[] => (existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n') : []);
  const readers = [run(true, 'r1'), run(true, 'r2')];
  for (const until = performance.now() + 15_000; started().length < 2 && performance.now() < until; ) await sleep(20);
  if (started().length < 2) writeFileSync(go, ''); // let a waiting run finish before failing
  assert.deepEqual(started().sort(), ['start r1', 'start r2'], 'both shared runs hold at once');
  const refused = await baton(['run', '--lock', r, '--timeout', '0', '--', 'true']);
  assert.equal(refused.code, 75, `an exclusive run is refused while shared runs hold: ${refused.stderr}`);
  const writer = run(false, 'w');
  await sleep(300);
  assert.equal(started().length, 2, 'the exclusive run waits');
  writeFileSync(go, '');
  for (const p of [...readers, writer]) assert.equal((await p.done).code, 0);
  const order = started();
  assert.deepEqual(order.slice(-2), ['start w', 'end w'], `the exclusive run came after both: ${order.join(', ')}`);
});

test('baton run from 8 shell loops: an unlocked read-modify-write of a file loses nothing', async (t) => {
  const dir = tempDir(t);
  const counter = join(dir, 'counter');
  writeFileSync(counter, '0\n');
  const loops = 8;
  const each = 6;
  const script = `for i in $(seq ${each}); do "${process.execPath}" "${cli}" run --lock "${counter}" -- sh -c 'n=$(cat "${counter}"); sleep 0.01; echo $((n+1)) > "${counter}"' || exit 1; done`;
  const shells = Array.from({ length: loops }, () => start('sh', ['-c', script]));
  for (const s of shells) {
    const r = await s.done;
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(readFileSync(counter, 'utf8').trim(), String(loops * each));
});

test('exit codes: the command\'s own, 128+N for a signal, 127 for a missing command', async (t) => {
  const dir = tempDir(t);
  const r = join(dir, 'r');
  assert.equal((await baton(['run', '--lock', r, '--', 'sh', '-c', 'exit 7'])).code, 7);
  assert.equal((await baton(['run', '--lock', r, '--', 'sh', '-c', 'kill -TERM $$'])).code, 143);
  const missing = await baton(['run', '--lock', r, '--', 'no-such-command-here']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /command not found/);
  assert.equal((await readLock(r)).state, 'unlocked', 'the lock is released after every run');
});

test('a lock not had within --timeout: exit 75 (or --conflict-exit-code) with a line naming the holder', async (t) => {
  const dir = tempDir(t);
  const r = join(dir, 'r');
  const holder = startNode(worker('holder'), [r]);
  const pid = holder.child.pid;
  await holder.line('held');
  const timedOut = await baton(['run', '--lock', r, '--timeout', '0.2', '--', 'true']);
  assert.equal(timedOut.code, 75);
  assert.match(timedOut.stderr, new RegExp(`^baton: timed out after 200 ms waiting for .*held by pid ${pid} on .*\\[LOCK_TIMEOUT\\]\\n$`));
  assert.equal((await baton(['run', '--lock', r, '--timeout', '0', '--conflict-exit-code', '9', '--', 'true'])).code, 9);
  holder.child.kill('SIGKILL');
  await holder.done;
});

test('lock status and lock remove: live holders are kept unless --force; stale ones are removed', async (t) => {
  const dir = tempDir(t);
  const r = join(dir, 'r');
  const unlocked = await baton(['lock', 'status', r]);
  assert.equal(unlocked.stdout, `unlocked: ${r}.lock\n`);

  const holder = startNode(worker('holder'), [r]);
  await holder.line('held');
  const status = await baton(['lock', 'status', r]);
  assert.match(status.stdout, new RegExp(`^held: ${r}\\.lock\\n  exclusive lock, owner \\S+\\n    pid ${holder.child.pid} .* alive: yes`));
  const json = JSON.parse((await baton(['lock', 'status', r, '--json'])).stdout);
  assert.equal(json.state, 'held');
  assert.equal(json.holders[0].record.pid, holder.child.pid);
  assert.equal(json.holders[0].verdict.alive, true);

  const kept = await baton(['lock', 'remove', r]);
  assert.equal(kept.code, 3);
  assert.match(kept.stdout, /kept live exclusive lock .*--force/);
  holder.child.kill('SIGSTOP'); // alive but stuck: only --force removes it
  const forced = await baton(['lock', 'remove', r, '--force', '--json']);
  assert.equal(forced.code, 0);
  assert.equal(JSON.parse(forced.stdout).removed.length, 1);
  holder.child.kill('SIGKILL');
  await holder.done;

  const dead = startNode(worker('holder'), [r]);
  await dead.line('held');
  dead.child.kill('SIGKILL');
  await dead.done;
  assert.match((await baton(['lock', 'status', r])).stdout, /^stale: .*alive: no/s);
  const removed = await baton(['lock', 'remove', r]);
  assert.equal(removed.code, 0);
  assert.match(removed.stdout, /^removed exclusive lock of pid/);
  assert.equal((await readLock(r)).state, 'unlocked');
});

test('if baton is killed with SIGKILL, the lock stays held until the command it started has ended', async (t) => {
  const dir = tempDir(t);
  const r = join(dir, 'r');
  const marker = join(dir, 'finished');
  const run = start(process.execPath, [cli, 'run', '--lock', r, '--', 'sh', '-c', `sleep 1.2; echo yes > "${marker}"`]);
  // Wait until baton has recorded its command in the lock record.
  for (let i = 0; i < 200; i++) {
    const info = await readLock(r);
    if ((info.holders[0]?.record.children.length ?? 0) > 0) break;
    await sleep(10);
  }
  const info = await readLock(r);
  assert.equal(info.holders[0]?.record.children.length, 1, 'the command is recorded as keeping the lock alive');
  run.child.kill('SIGKILL');
  // 'exit', not 'close': the orphaned command still holds baton's stdout pipe open.
  await new Promise((resolve) => run.child.once('exit', resolve));
  await sleep(50);
  assert.equal(existsSync(marker), false);
  assert.equal((await acquireLock(r, { timeout: 0 })).success, false, 'not free while the command still runs');
  const next = await acquireLock(r, { timeout: 10_000 });
  assert.ok(next.success);
  assert.ok(existsSync(marker), 'the lock was taken over only after the command had finished');
  await next.handle.release();
});
