// The engine's CLI commands, run as real processes against a temp database.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCoordinator, withGitLock } from '../../src/index.ts';
import { baton as runBaton, sleep, start as startProcess, tempDir, type Finished } from '../helpers/procs.ts';
import { json, refused } from '../helpers/cli-answers.ts';
import { cli } from '../../support/paths.ts';

// Many short CLI processes: share a V8 compile cache between them (it roughly halves each one's start-up).
const compileCache = mkdtempSync(join(tmpdir(), 'baton-compile-cache-'));
after(() => rmSync(compileCache, { recursive: true, force: true }));
const cacheEnv = { NODE_COMPILE_CACHE: compileCache };

function baton(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  return runBaton(args, { ...options, env: { ...cacheEnv, ...options.env } });
}

function start(args: string[]): ReturnType<typeof startProcess> {
  return startProcess(process.execPath, [cli, ...args], { env: cacheEnv });
}

/** A fresh database; `run` runs baton against it (--db goes before a `--`). */
function database(t: TestContext): { db: string; dir: string; run: (args: string[], options?: { cwd?: string }) => Promise<Finished> } {
  const dir = tempDir(t, 'baton-engine-cli-');
  const db = join(dir, 'state', 'baton.db');
  const run = (args: string[], options: { cwd?: string } = {}): Promise<Finished> => {
    const split = args.indexOf('--');
    return baton(split === -1 ? [...args, '--db', db] : [...args.slice(0, split), '--db', db, ...args.slice(split)], options);
  };
  return { db, dir, run };
}

before(async () => {
  // Fill the compile cache once, with every module the engine commands load.
  const dir = mkdtempSync(join(tmpdir(), 'baton-warm-'));
  await baton(['lease', 'list', '--db', join(dir, 'b.db')]);
  rmSync(dir, { recursive: true, force: true });
});

describe('baton engine commands', { concurrency: true }, () => {
  test('--help on every new command and action exits 0', async () => {
    const groups: Record<string, string[]> = {
      lease: ['acquire', 'release', 'renew', 'list', 'show', 'force-release'],
      task: ['add', 'list', 'show', 'claim', 'renew', 'complete', 'fail', 'release', 'cancel'],
      budget: ['set', 'remove', 'status', 'reserve', 'commit', 'cancel', 'report', 'usage', 'reset'],
      limit: ['take', 'set', 'status'],
    };
    const cases = [
      ...Object.entries(groups).flatMap(([g, actions]) => [[g, '--help'], ['help', g], ...actions.map((a) => [g, a, '--help'])]),
      ['agents', '--help'],
      ['events', '--help'],
      ['git', '--help'],
      ['--help'],
    ];
    const results = await Promise.all(cases.map((args) => baton(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${cases[i]!.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /usage: baton/, cases[i]!.join(' '));
    });
    assert.match(results.at(-1)!.stdout, /lease .*\n.*\n\s+task /);
    // A group with no action shows its help but is a usage error.
    const bare = await baton(['lease']);
    assert.equal(bare.code, 2);
    assert.match(bare.stdout, /acquire/);
  });

  test('bad values exit 2 with one line naming the value', async (t) => {
    const cases: Array<[string[], RegExp]> = [
      [['lease', 'acquire', 'k', '--ttl', '-1'], /^baton: --ttl must be a number of seconds > 0, got "-1" \[INVALID_ARGUMENT\]\n$/],
      [['lease', 'acquire', 'k', '--timeout', 'soon'], /--timeout .*"soon"/],
      [['task', 'add', 'x', '--priority', 'abc'], /^baton: --priority must be a whole number from -1000000 to 1000000, got "abc" \[INVALID_ARGUMENT\]\n$/],
      [['task', 'add', 'x', '--payload', '{nope'], /--payload must be JSON, got "\{nope"/],
      // Past a double's range JSON.parse makes Infinity, which would be stored as null: refused instead, the value cut short.
      [['task', 'add', 'x', '--payload', `{"n":1${'0'.repeat(400)}}`], /--payload must be JSON, got "\{\\"n\\":10+\.\.\." \(a number is too large for JSON to carry\)/],
      [['task', 'add', 'x', '--depends-on', '1,two'], /--depends-on .*"1,two"/],
      [['task', 'add', 'x', '--run-at', 'someday'], /--run-at .*"someday"/],
      [['task', 'claim', '--n', '0'], /--n .*"0"/],
      [['task', 'list', '--status', 'sleeping'], /--status .*"sleeping"/],
      [['budget', 'set', '--limit', '-5'], /--limit .*"-5"/],
      [['budget', 'set', '--limit', '5', '--period', 'weekly'], /--period .*"weekly"/],
      [['limit', 'take', 'k', '--cost', '0'], /--cost .*"0"/],
      [['events', '--from', 'x'], /--from .*"x"/],
    ];
    const dir = tempDir(t);
    const results = await Promise.all(cases.map(([args]) => baton([...args, '--db', join(dir, 'b.db')])));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      refused(r, 2, pattern);
      assert.equal(r.stdout, '', args.join(' '));
    });
    // `tokens` (now `budget`) is gone, not an alias.
    const gone = await baton(['tokens', 'status']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /^baton: unknown command "tokens"/);
    // Usage errors: one line naming the problem and the help to read.
    const usage = await Promise.all([baton(['lease', 'release', 'k']), baton(['lease', 'frob']), baton(['task', 'show']), baton(['git', 'status'])]);
    usage.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^baton: [^\\n]*; see 'baton ${['lease release', 'lease', 'task show', 'git'][i]} --help' \\[INVALID_ARGUMENT\\]\\n$`));
    });
  });

  test('lease acquire, conflict (exit 75 naming the holder), stale release (exit 1), release', async (t) => {
    const { run } = database(t);
    const lease = json(await run(['lease', 'acquire', 'deploy', '--owner', 'agent-a', '--ttl', '30', '--json']));
    assert.equal(lease.key, 'deploy');
    assert.equal(lease.owner, 'agent-a');
    assert.ok(Number.isInteger(lease.token) && lease.token > 0);
    assert.ok(lease.expiresAt > Date.now() + 20_000);

    const [conflict, stale, listed, human] = await Promise.all([
      run(['lease', 'acquire', 'deploy', '--timeout', '0']),
      run(['lease', 'release', 'deploy', '--token', String(lease.token + 1)]),
      run(['lease', 'list', '--json']),
      run(['lease', 'show', 'deploy']),
    ]);
    refused(conflict, 75, /^baton: "deploy" is held by "agent-a" .*\[LOCKED\]\n$/);
    refused(stale, 1, /^baton: token \d+ does not hold "deploy" .*\[STALE_TOKEN\]\n$/);
    assert.deepEqual(json(listed).map((l: { token: number }) => l.token), [lease.token]);
    assert.match(human.stdout, /^"deploy": held \(exclusive\)\nholders:\n {2}KEY .*\n {2}deploy +exclusive +\d+ +agent-a /);

    const renewed = json(await run(['lease', 'renew', 'deploy', '--token', String(lease.token), '--ttl', '90', '--json']));
    assert.ok(renewed.expiresAt > lease.expiresAt);
    const released = await run(['lease', 'release', 'deploy', '--token', String(lease.token), '--json']);
    assert.equal(json(released), null);
    assert.deepEqual(json(await run(['lease', 'show', 'deploy', '--json'])).holders, []);

    // A default owner names this user, host and the command (its pid would name a process gone by now); force-release ends any hold.
    const mine = await run(['lease', 'acquire', 'deploy']);
    assert.match(mine.stdout, /^key: +deploy\ntoken: +\d+\nowner: +\S+@\S+ \(baton lease acquire\)\n/m);
    assert.match(mine.stdout, /expiresAt: .*\(in \d+s\)/);
    assert.equal(json(await run(['lease', 'force-release', 'deploy', '--reason', 'test', '--json'])), 1);
  });

  test('task add, claim, complete with --json; complete twice is refused', async (t) => {
    const { run } = database(t);
    const added = json(await run(['task', 'add', 'build it', '--payload', '{"n":1}', '--priority', '3', '--queue', 'q', '--json']));
    assert.equal(added.status, 'ready');
    assert.deepEqual(added.payload, { n: 1 });
    const later = json(await run(['task', 'add', 'then this', '--queue', 'q', '--depends-on', String(added.id), '--run-at', '+0', '--json']));
    assert.deepEqual(later.dependsOn, [added.id]);

    const claims = json(await run(['task', 'claim', '--queue', 'q', '--n', '2', '--lease', '30', '--json']));
    assert.equal(claims.length, 1, 'the dependent task waits for the first');
    const [claim] = claims;
    assert.equal(claim.task.id, added.id);
    assert.equal(claim.task.status, 'claimed');
    const sessionId = claim.task.claimedBy;
    const [agents, shown] = await Promise.all([run(['agents', '--json']), run(['task', 'show', String(added.id)])]);
    const session = json(agents).find((s: { id: string }) => s.id === sessionId);
    assert.equal(session?.name, 'cli', 'the claim runs in a session registered for the CLI');
    assert.equal(session.pid, null);
    assert.match(shown.stdout, /status: +claimed/);

    const done = json(await run(['task', 'complete', String(added.id), '--token', String(claim.token), '--result', '"ok"', '--json']));
    assert.equal(done.status, 'done');
    assert.equal(done.result, 'ok');
    const again = await run(['task', 'complete', String(added.id), '--token', String(claim.token)]);
    refused(again, 1, /^baton: claim token \d+ no longer holds task \d+ \(it is done\) \[STALE_TOKEN\]\n$/);

    // The dependent is claimable now; fail it for good, and the queue is empty.
    const human = await run(['task', 'claim', '--queue', 'q']);
    assert.match(human.stdout, /^session: [0-9a-f-]{36}\nTASK +TOKEN +EXPIRES +TITLE\n\d+ +\d+ +\S+ \(in \d+s\) +then this\n$/);
    const token = human.stdout.split('\n')[2]!.split(/ +/)[1]!;
    const failed = json(await run(['task', 'fail', String(later.id), '--token', token, '--error', 'boom', '--retry-in', '0', '--json']));
    assert.equal(failed.status, 'ready');
    assert.equal(failed.lastError, 'boom');
    const list = await run(['task', 'list', '--queue', 'q']);
    assert.match(list.stdout, /^ID +QUEUE +STATUS +PRI +TRIES +TITLE\n\d+ +q +done +3 +1\/3 +build it\n\d+ +q +ready +0 +1\/3 +then this\n$/);
    assert.equal(json(await run(['task', 'cancel', String(later.id), '--json'])).status, 'cancelled');
    assert.deepEqual(json(await run(['task', 'claim', '--queue', 'q', '--json'])), []);
  });

  test('budget: a reservation over the budget exits 75 with BUDGET_EXCEEDED', async (t) => {
    const { run } = database(t);
    const budget = json(await run(['budget', 'set', '--limit', '100', '--agent', 'a', '--period', 'daily', '--warn', '50', '--json']));
    assert.equal(budget.limit, 100);
    assert.equal(budget.remaining, 100);
    json(await run(['budget', 'report', '--agent', 'a', '--model', 'm', '--prompt', '20', '--completion', '10', '--json']));
    const reservation = json(await run(['budget', 'reserve', '--agent', 'a', '--model', 'm', '--estimate', '60', '--json']));
    const [over, overJson, status] = await Promise.all([
      run(['budget', 'reserve', '--agent', 'a', '--estimate', '20']),
      run(['budget', 'reserve', '--agent', 'a', '--estimate', '20', '--json']),
      run(['budget', 'status', '--json']),
    ]);
    refused(over, 75, /^baton: reserving 20 tokens for "a" would exceed budget "agent:a": used 30 \+ reserved 60 of 100 \[BUDGET_EXCEEDED\]\n$/);
    assert.equal(overJson.code, 75);
    assert.equal(JSON.parse(overJson.stderr).error.code, 'BUDGET_EXCEEDED');
    assert.deepEqual(
      json(status).map((s: { used: number; reserved: number; remaining: number; warning: boolean }) => [s.used, s.reserved, s.remaining, s.warning]),
      [[30, 60, 10, true]],
    );
    const committed = json(await run(['budget', 'commit', reservation.id, '--prompt', '5', '--completion', '5', '--json']));
    assert.equal(committed.status.used, 40);
    assert.equal(json(await run(['budget', 'usage', '--json'])).byAgent[0].total, 40);
    refused(await run(['budget', 'cancel', reservation.id]), 1, /\[NOT_FOUND\]/);
    // A reset names a budget that exists; a misspelt one is refused, not reported done.
    const [missing, done] = await Promise.all([run(['budget', 'reset', '--agent', 'nope']), run(['budget', 'reset', '--agent', 'a', '--json'])]);
    refused(missing, 1, /^baton: no budget for scope "agent:nope" \[NOT_FOUND\]\n$/);
    assert.equal(json(done), null);
    assert.equal(json(await run(['budget', 'status', '--json']))[0].used, 0);
    // remove names a budget as set does; then nothing limits the agent.
    refused(await run(['budget', 'remove', '--agent', 'nope']), 1, /^baton: no budget for scope "agent:nope" \[NOT_FOUND\]\n$/);
    assert.equal((await run(['budget', 'remove', '--agent', 'a'])).stdout, 'removed the budget of agent a\n');
    assert.deepEqual(json(await run(['budget', 'status', '--json'])), []);
    assert.equal(json(await run(['budget', 'reserve', '--agent', 'a', '--estimate', '1000', '--json'])).estimate, 1000);
  });

  test('limit take exhausting a burst exits 75 with the retry-after', async (t) => {
    const { run } = database(t);
    json(await run(['limit', 'set', 'api', '--rate', '0.01', '--burst', '2', '--json']));
    assert.match((await run(['limit', 'take', 'api', '--cost', '2'])).stdout, /^granted\n$/);
    const [denied, deniedJson] = await Promise.all([run(['limit', 'take', 'api']), run(['limit', 'take', 'api', '--json'])]);
    refused(denied, 75, /^baton: rate limit "api" not granted: retry after \S+ \(\d+ ms\) \[RATE_LIMITED\]\n$/);
    assert.equal(deniedJson.code, 75);
    const result = JSON.parse(deniedJson.stdout);
    assert.equal(result.granted, false);
    assert.ok(result.retryAfterMs > 1000);
    // A wait longer than --timeout is refused at once; --rate/--burst create a limit on the fly.
    assert.equal((await run(['limit', 'take', 'api', '--timeout', '0.1'])).code, 75);
    assert.deepEqual(json(await run(['limit', 'take', 'fresh', '--rate', '5', '--burst', '1', '--json'])), { granted: true, waitedMs: 0 });
    const status = json(await run(['limit', 'status', '--json']));
    assert.deepEqual(status.map((s: { key: string }) => s.key), ['api', 'fresh']);
  });

  test('events lists what happened; --follow prints new events until SIGTERM', async (t) => {
    const { run, db } = database(t);
    const lease = json(await run(['lease', 'acquire', 'k', '--owner', 'me', '--json']));
    await run(['task', 'add', 'a task']);
    const follower = start(['events', '--follow', '--from', '1', '--json', '--type', 'lease', '--db', db]);
    const all = await run(['events', '--json']);
    const events = all.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.type), ['lease.acquired', 'task.added']);
    assert.equal(events[0].key, 'k');
    assert.equal(events[0].actor, 'me');
    assert.equal(events[0].data.token, lease.token);
    const human = await run(['events', '--type', 'task']);
    assert.match(human.stdout, /^ +2 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}task\.added +1 +- +\{"queue":"default","title":"a task",/);
    assert.equal(human.stdout.split('\n').length, 2);
    assert.equal((await run(['events', '--from', '2', '--json'])).stdout.split('\n').length, 2);

    await follower.line('{"seq":1,');
    await run(['lease', 'release', 'k', '--token', String(lease.token)]);
    const released = JSON.parse(await follower.line('{"seq":3,'));
    assert.equal(released.type, 'lease.released');
    follower.child.kill('SIGTERM');
    const ended = await follower.done;
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stderr, '');
    assert.equal(follower.lines().length, 2, 'task events are filtered out');
  });

  test('baton git: init and status run under the git lease, which is free afterwards', async (t) => {
    const { run, dir } = database(t);
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    const init = await run(['git', '--', 'init', '-q'], { cwd: repo });
    assert.equal(init.code, 0, init.stderr);
    const status = await run(['git', '--timeout', '5', '--', 'status', '--porcelain=v1', '--branch'], { cwd: repo });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^## /, 'git printed its own output');
    assert.deepEqual(json(await run(['lease', 'show', 'git', '--json'])).holders, []);
    assert.equal((await run(['git', '--', 'no-such-subcommand'], { cwd: repo })).code, 1, "git's exit code");
    // Held by someone else: exit 75 at once with --timeout 0.
    json(await run(['lease', 'acquire', 'git', '--owner', 'other', '--json']));
    refused(await run(['git', '--timeout', '0', '--', 'status'], { cwd: repo }), 75, /^baton: "git" is held by "other" .*\[LOCKED\]\n$/);
  });

  test('without a daemon the default database is <git common dir>/baton/baton.db, in a 0700 directory', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    const r = await baton(['lease', 'list', '--no-daemon'], { cwd: join(dir, 'a', 'b'), env: { BATON_DB: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no leases held\n');
    // Reading makes nothing (it used to make the database); the first write does.
    assert.ok(!existsSync(join(dir, '.git', 'baton')), 'a read made no state directory');
    const w = await baton(['lease', 'acquire', 'x', '--no-daemon'], { cwd: join(dir, 'a', 'b'), env: { BATON_DB: '' } });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(statSync(join(dir, '.git', 'baton')).mode & 0o777, 0o700);
    assert.ok(statSync(join(dir, '.git', 'baton', 'baton.db')).isFile());
    const viaEnv = await baton(['lease', 'acquire', 'x', '--json'], { cwd: dir, env: { BATON_DB: join(dir, 'env', 'e.db') } });
    assert.equal(json(viaEnv).key, 'x');
    assert.equal(statSync(join(dir, 'env')).mode & 0o777, 0o700);
  });
});

// In-process and timing-sensitive: not alongside the tests that spawn many processes (spawning blocks the event loop).
test('withGitLock holds the git lease (renewed past its TTL) while fn runs, then releases it', async (t) => {
  const dir = tempDir(t);
  const c = await openCoordinator({ url: `sqlite:${join(dir, 'b.db')}` });
  t.after(() => c.close());
  const result = await withGitLock(
    c,
    async (lease) => {
      assert.equal(lease.key, 'git');
      assert.equal(lease.mode, 'exclusive');
      assert.match(lease.owner, /@.*:\d+$/);
      await sleep(1000);
      return (await c.checkLease(lease)).token;
    },
    { ttlMs: 300 },
  );
  assert.ok(result > 0, 'still held after 3 TTLs');
  assert.deepEqual((await c.getLease('git')).holders, []);
  await assert.rejects(
    withGitLock(c, async () => {
      throw new Error('inside');
    }),
    /inside/,
  );
  assert.deepEqual((await c.getLease('git')).holders, []);
});
