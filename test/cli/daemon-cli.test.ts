// The CLI through the project's daemon: found by discovery from any worktree,
// started when none runs, and the same answers as the embedded store.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { locateProject } from '../../src/project/state-dir.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { baton, startNode, tempDir } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';

const withDaemon = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_HOME: '', BATON_URL: '' };

function gitRepo(dir: string): void {
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-q', '--allow-empty', '-m', 'init']);
}

/** A git repository and its running daemon (state under .git/baton), stopped when the test ends. */
async function repoWithDaemon(t: TestContext): Promise<{ dir: string; daemon: RunningDaemon }> {
  const dir = tempDir(t);
  gitRepo(dir);
  const daemon = await startDaemon(join(dir, '.git', 'baton'), { cwd: dir });
  t.after(() => daemon.stop());
  return { dir, daemon };
}

test('all worktrees share one state directory (git common dir); BATON_HOME overrides it', (t) => {
  const dir = tempDir(t);
  const repo = join(dir, 'repo');
  gitRepo(repo);
  execFileSync('git', ['-C', repo, 'worktree', 'add', '-q', join(dir, 'wt')]);
  const main = locateProject(join(repo), {});
  assert.equal(main.stateDir, join(repo, '.git', 'baton'));
  assert.equal(locateProject(join(dir, 'wt'), {}).stateDir, main.stateDir);
  assert.equal(locateProject(join(dir, 'wt'), {}).root, join(dir, 'wt'));
  assert.equal(locateProject(join(dir, 'wt'), { BATON_HOME: join(dir, 'home') }).stateDir, join(dir, 'home'));
});

test('commands go through the running daemon from any worktree, with the same output as the embedded store', async (t) => {
  const dir = tempDir(t);
  const repo = join(dir, 'repo');
  gitRepo(repo);
  execFileSync('git', ['-C', repo, 'worktree', 'add', '-q', join(dir, 'wt')]);
  const daemon = await startDaemon(join(repo, '.git', 'baton'), { cwd: repo });
  t.after(() => daemon.stop());

  const acquired = await baton(['lease', 'acquire', 'repo', '--owner', 'cli', '--json'], { cwd: join(dir, 'wt'), env: withDaemon });
  assert.equal(acquired.code, 0, acquired.stderr);
  const viaDaemon = JSON.parse((await baton(['status', '--json'], { cwd: join(dir, 'wt'), env: withDaemon })).stdout);
  assert.equal(viaDaemon.daemon.pid, daemon.record.pid, 'the status came from the daemon');
  assert.ok(viaDaemon.daemon.writer.operations >= 1);
  const embedded = JSON.parse((await baton(['status', '--json', '--no-daemon'], { cwd: repo, env: withDaemon })).stdout);
  assert.equal(embedded.daemon, null);
  assert.deepEqual(embedded.leases, viaDaemon.leases, 'the same state either way');
  const text = await baton(['lease', 'list'], { cwd: repo, env: withDaemon });
  const textEmbedded = await baton(['lease', 'list', '--no-daemon'], { cwd: repo, env: withDaemon });
  assert.equal(text.stdout.replace(/\(in \d+s\)/, ''), textEmbedded.stdout.replace(/\(in \d+s\)/, ''));

  // A refusal reads the same through the daemon: one line, the code, exit 75.
  const refused = await baton(['lease', 'acquire', 'repo', '--owner', 'other', '--timeout', '0'], { cwd: repo, env: withDaemon });
  assert.equal(refused.code, 75);
  assert.match(refused.stderr, /^baton: "repo" is held by "cli" .*\[LOCKED\]\n$/);

  // Bad input is refused in the same words either way (the embedded store checks the daemon's request schemas first).
  for (const args of [['lease', 'acquire', '', '--owner', 'x'], ['lease', 'release', 'repo', '--token', String(2 ** 60)], ['task', 'add', 'x'.repeat(5000)]]) {
    const viaDaemonBad = await baton(args, { cwd: repo, env: withDaemon });
    const embeddedBad = await baton([...args, '--no-daemon'], { cwd: repo, env: withDaemon });
    assert.equal(viaDaemonBad.code, 2, viaDaemonBad.stderr);
    assert.match(viaDaemonBad.stderr, /^baton: .*\[INVALID_ARGUMENT\]\n$/);
    assert.equal(embeddedBad.stderr, viaDaemonBad.stderr, `baton ${args.join(' ').slice(0, 60)}`);
  }
});

test('with no daemon running, a command starts one (unless --no-daemon)', async (t) => {
  const dir = tempDir(t);
  gitRepo(dir);
  const stateDir = join(dir, '.git', 'baton');
  let started: number | undefined;
  t.after(() => {
    try {
      if (started !== undefined) process.kill(started, 'SIGTERM');
    } catch {
      // gone already
    }
  });
  const none = await baton(['status', '--json', '--no-daemon'], { cwd: dir, env: withDaemon });
  assert.equal(JSON.parse(none.stdout).daemon, null);
  assert.ok(!existsSync(join(stateDir, 'daemon.json')), '--no-daemon started nothing');

  const first = await baton(['task', 'add', 'hello', '--json'], { cwd: dir, env: withDaemon });
  assert.equal(first.code, 0, first.stderr);
  const record = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as { pid: number; socket: string };
  started = record.pid;
  const status = JSON.parse((await baton(['status', '--json'], { cwd: dir, env: withDaemon })).stdout);
  assert.equal(status.daemon.pid, record.pid);
  assert.equal(status.tasks.ready, 1);
});

test('baton run --lock takes a daemon lease when a daemon runs: a waiter starts as soon as the holder ends', async (t) => {
  const { dir, daemon } = await repoWithDaemon(t);
  const file = join(dir, 'state.json');
  const script = 'const t=Date.now();setTimeout(()=>console.log(t+" "+Date.now()),300)';
  const runs = [0, 1, 2].map(() => startNode(cli, ['run', '--lock', file, '--', process.execPath, '-e', script], { cwd: dir, env: withDaemon }));
  const outs = await Promise.all(runs.map((r) => r.done));
  for (const o of outs) assert.equal(o.code, 0, o.stderr);
  const spans = outs.map((o) => o.stdout.trim().split(' ').map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'no two commands overlapped');
  const leases = (await daemon.client().events({ types: ['lease.acquired'] })).filter((e) => e.key === `file:${file}`);
  assert.equal(leases.length, 3, 'each run took the daemon lease');
});

test('baton git through a daemon: the git lease is bound to the baton process, released within a second of kill -9', async (t) => {
  const { dir, daemon } = await repoWithDaemon(t);
  const c = daemon.client();
  const slow = startNode(cli, ['git', '--owner', 'doomed', '--', '-c', 'alias.slow=!echo started $$; exec sleep 30', 'slow'], { cwd: dir, env: withDaemon });
  // A loaded machine (the full suite, two files at once on 2 cores) has taken more than 10 s to get here.
  const gitPid = Number((await slow.line('started ', 30_000)).split(' ')[1]);
  t.after(() => {
    try {
      process.kill(gitPid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
  const [held] = (await c.getLease('git')).holders;
  assert.equal(held?.owner, 'doomed');
  assert.equal(held?.expiresAt, null, 'no TTL: the session is its liveness');
  assert.notEqual(held?.sessionId, null);
  slow.child.kill('SIGKILL');
  const killedAt = Date.now();
  const next = await c.acquire('git', { owner: 'next', timeoutMs: 5_000 });
  const waited = Date.now() - killedAt;
  assert.ok(waited < 1_000, `the next holder waited ${waited} ms after the kill`);
  await c.release(next);

  // It ends normally too: the lease and the session go with the command.
  const ok = await baton(['git', '--', 'status', '--short'], { cwd: dir, env: withDaemon });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((await c.getLease('git')).holders, []);
  assert.equal((await c.listSessions()).filter((s) => s.name === 'baton git').length, 0, 'no baton git session outlives its command');
});

test('baton serve --foreground prints the structured log lines its log file gets', async (t) => {
  const dir = tempDir(t);
  gitRepo(dir);
  const stateDir = join(dir, '.git', 'baton');
  const serve = startNode(cli, ['serve', '--foreground'], { cwd: dir, env: withDaemon });
  t.after(() => serve.child.kill('SIGKILL'));
  // A daemon's start on a loaded machine (two test files at once on 2 cores) can take seconds.
  const started = JSON.parse(await serve.line('{', 30_000)) as Record<string, unknown>;
  assert.equal(started.message, 'daemon started');
  assert.equal(started.level, 'info');
  assert.equal(started.pid, serve.child.pid);
  assert.equal(started.stateDir, stateDir);
  serve.child.kill('SIGTERM');
  const done = await serve.done;
  assert.equal(done.code, 0, done.stderr);
  const printed = done.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string });
  assert.deepEqual(printed.map((l) => l.message).filter((m) => m.startsWith('daemon')), ['daemon started', 'daemon stopping', 'daemon stopped']);
  const file = readFileSync(join(stateDir, 'logs', `daemon-${serve.child.pid}.log`), 'utf8');
  assert.equal(file, done.stdout, 'the log file has the same lines');
});

test('baton status: the plain-text screen shows the daemon, sessions, leases, tasks by state, budgets and rate limits', async (t) => {
  const { dir, daemon } = await repoWithDaemon(t);
  const c = daemon.client();
  const s = await c.register({ name: 'screen-agent', kind: 'agent' });
  await c.acquire('path:src/**', { owner: 'screen-agent', sessionId: s.id, ttlMs: 0 });
  await c.acquire('repo', { owner: 'other', ttlMs: 120_000 });
  await c.addTasks([{ title: 'one' }, { title: 'two' }, { title: 'three' }]);
  await c.claim(s.id);
  await c.setBudget({ agent: 'screen-agent', limit: 1000 });
  await c.report({ agent: 'screen-agent', model: 'm', promptTokens: 600, completionTokens: 300 });
  await c.setRateLimit('api', { rate: 5, burst: 10 });
  const out = await baton(['status'], { cwd: dir, env: withDaemon });
  assert.equal(out.code, 0, out.stderr);
  const text = out.stdout;
  assert.match(text, new RegExp(`^daemon: pid ${daemon.record.pid}, up \\S+, ${daemon.record.socket!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  assert.match(text, /\n {8}\d+ connections?, \d+ writes in \d+ commits, queue \d+\/4096, rss \d+ MB, durability normal\n/);
  assert.match(text, /\nsessions \(1\)\nID +NAME +KIND +HOST +PID +AGE +HEARTBEAT\n\S+ +screen-agent +agent /);
  assert.match(text, /\nleases \(2\)\nKEY +MODE +OWNER +TOKEN +AGE +TTL\n/);
  assert.match(text, /\npath:src\/\*\* +exclusive +screen-agent +\d+ +\S+ +session\n/);
  assert.match(text, /\nrepo +exclusive +other +\d+ +\S+ +(1m\d+s|2m0s|\d+s) left\n/);
  assert.match(text, /\ntasks: 2 ready, 1 claimed, 0 blocked, 0 awaiting_approval, 0 done, 0 dead, 0 cancelled, 0 rejected\n/);
  assert.match(text, /\nbudgets \(1\)\nSCOPE +PERIOD +USED +RESERVED +LIMIT +STATE\nagent:screen-agent +\S+ +900 +0 +1000 +warning\n/);
  assert.match(text, /\nrate limits \(1\)\nKEY +RATE\/S +BURST +AVAILABLE\napi +5 +10 +10\n\nreservation violations \(0\)\n$/);
});
