// A store written by the previous release opens in this one, migrates in
// place, and keeps everything under the default project: the previous
// release's own code (read out of git, support/previous-release.ts) writes a
// SQLite file and a PostgreSQL database, then today's daemon serves them. The
// home project is named after the repository the daemon runs in (an origin
// remote of acme/shop: acme-shop), and every worktree of it derives that name.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { materialise } from '../../support/previous-release.ts';
import { deriveProjectName, nameFromRemote, originUrl } from '../../src/project/project-name.ts';
import { startDaemon } from '../../support/daemon.ts';
import { postgresPerFile } from '../../support/postgres.ts';

const postgres = postgresPerFile('baton-migrate-previous-');
const dir = postgres.dir;
const previous = materialise(dir);
const skip = 'skip' in previous ? `the previous release is not at hand: ${previous.skip}` : false;
const writer = new URL('../fixtures/write-store.ts', import.meta.url).pathname;

interface Written {
  sessionId: string;
  leases: Array<{ key: string; token: number }>;
  tasks: number[];
  claimed: number;
  kvRevision: number;
  eventSeqs: number[];
  eventTypes: string[];
}

/** The previous release's code writes into `url`. */
function writeWithPrevious(url: string): Written {
  const root = (previous as { root: string }).root;
  const run = spawnSync(process.execPath, [writer, url], { env: { ...process.env, BATON_SRC: join(root, 'src') }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `the previous release could not write the store: ${run.stderr}`);
  return JSON.parse(run.stdout) as Written;
}

/** A git repository whose origin is acme/shop, with a second worktree. */
function repository(): { main: string; worktree: string } {
  const main = join(dir, `shop-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(main);
  const git = (...args: string[]): void => void execFileSync('git', ['-C', main, ...args], { stdio: 'ignore' });
  git('init', '-q');
  git('remote', 'add', 'origin', 'git@github.com:acme/shop.git');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'first');
  const worktree = `${main}-feature`;
  git('worktree', 'add', '-q', worktree);
  return { main, worktree };
}

async function upgradesInPlace(stateDir: string, cwd: string, args: string[], written: Written): Promise<void> {
  const daemon = await startDaemon(stateDir, { cwd, args });
  try {
    const c = daemon.client();
    const leases = await c.listLeases();
    assert.deepEqual(leases.map((l) => ({ key: l.key, token: l.token })).sort((a, b) => a.key.localeCompare(b.key)), [...written.leases].sort((a, b) => a.key.localeCompare(b.key)));
    assert.equal((await c.getSession(written.sessionId)).name, 'old-agent');
    const tasks = await c.listTasks({});
    assert.deepEqual(tasks.map((t) => t.id).sort((a, b) => a - b), [...written.tasks].sort((a, b) => a - b));
    assert.equal(tasks.find((t) => t.id === written.claimed)!.status, 'done');
    assert.equal(written.claimed, written.tasks[0]);
    assert.equal(tasks.find((t) => t.id === written.tasks[1])!.status, 'ready', 'its dependency was done before the upgrade');
    assert.deepEqual(tasks.find((t) => t.id === written.tasks[1])!.dependsOn, [written.tasks[0]]);
    const [budget] = await c.budgetStatus({});
    assert.equal(budget?.used, 1500, 'the budget keeps its usage');
    assert.equal((await c.kvGet('config/mode'))?.revision, written.kvRevision);
    assert.equal((await c.inbox('old-agent', {})).length, 1);
    const events = await c.events({ after: 0, limit: 1000 });
    const kept = events.filter((e) => written.eventSeqs.includes(e.seq));
    assert.deepEqual(kept.map((e) => e.type), written.eventTypes, 'every event is still there, in order');
    // The store's data is the default project's, named after the repository; asking for it by name is the same.
    const { projects } = await c.daemonOperation('projectList', {});
    assert.deepEqual(projects.map((p) => [p.name, p.home]), [['acme-shop', true]]);
    assert.match(projects[0]!.derivedFrom ?? '', /^origin git@github.com:acme\/shop.git$/);
    const byName = daemon.client({ project: 'acme-shop' });
    assert.equal((await byName.listTasks({})).length, written.tasks.length);
    // A new lease in the upgraded store continues the fencing tokens: never backwards.
    const again = await c.acquire('path:src/**', { owner: 'new-agent', ttlMs: 1000, timeoutMs: 0 }).catch((error: Error) => error);
    assert.ok(again instanceof Error, 'the lease taken before the upgrade still holds');
  } finally {
    await daemon.stop();
  }
}

test('a SQLite store written by the previous release migrates in place and keeps everything under the default project', { skip }, async () => {
  const { main } = repository();
  const stateDir = join(main, '.git', 'baton');
  mkdirSync(stateDir, { recursive: true });
  const written = writeWithPrevious(`sqlite:${join(stateDir, 'baton.db')}`);
  assert.ok(written.eventSeqs.length >= 10);
  await upgradesInPlace(stateDir, main, [], written);
});

test('a PostgreSQL database written by the previous release migrates in place and keeps everything under the default project', { skip }, async () => {
  const { main } = repository();
  const url = await postgres.databases.empty();
  const written = writeWithPrevious(url);
  await upgradesInPlace(join(main, '.git', 'baton'), main, ['--store', url], written);
});

test('the default project is derived from the repository: the origin remote, else the folder; worktrees share it', () => {
  const { main, worktree } = repository();
  assert.deepEqual(deriveProjectName(main).name, 'acme-shop');
  assert.deepEqual(deriveProjectName(worktree).name, 'acme-shop');
  assert.deepEqual(deriveProjectName(join(main)).from, 'origin git@github.com:acme/shop.git');
  for (const [url, name] of [
    ['https://github.com/Acme/Shop.git', 'acme-shop'],
    ['https://user:secret@gitlab.example.com/group/sub/App_Server', 'sub-app-server'],
    ['ssh://git@host:2222/team/repo.git/', 'team-repo'],
    ['/srv/git/solo.git', 'git-solo'],
  ] as const) {
    assert.equal(nameFromRemote(url), name, url);
  }
  assert.equal(originUrl('[core]\n\tbare = false\n[remote "upstream"]\n\turl = a\n[remote "origin"]\n\turl = b\n'), 'b');
  const bare = join(dir, 'No Remote Here');
  mkdirSync(bare);
  execFileSync('git', ['-C', bare, 'init', '-q']);
  assert.deepEqual(deriveProjectName(bare), { name: 'no-remote-here', from: `folder ${bare}` });
  const plain = mkdtempSync(join(tmpdir(), 'Plain Folder-'));
  assert.match(deriveProjectName(plain).name, /^plain-folder-/);
});
