// A running daemon and its baton.toml: applied at start, applied again when
// the file changes (saved in place or by an editor's rename), a bad edit
// refused in the log with file:line: reason while the last good configuration
// stays in force; flags over the environment over the file at start.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RemoteCoordinator } from '../../src/client/index.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { sleep, tempDir } from '../helpers/procs.ts';

const hermetic: Record<string, string> = { BATON_CONFIG: '', BATON_HOME: '', ...Object.fromEntries(SETTINGS.map((s) => [s.env, ''])) };

const FILE = `[budget]
total = 1000
period = "daily"

[budget.agents]
claude = 500
gone = 300

[rate_limits]
api = { rate = 2, burst = 10 }

[daemon]
max_queue = 100
max_connections = 50
`;

async function daemonOver(t: TestContext, text: string, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<{ dir: string; file: string; daemon: RunningDaemon; client: RemoteCoordinator }> {
  const dir = tempDir(t);
  execFileSync('git', ['init', '-q', dir]);
  const file = join(dir, 'baton.toml');
  writeFileSync(file, text);
  const daemon = await startDaemon(join(dir, '.git', 'baton'), { cwd: dir, env: { ...hermetic, ...options.env }, ...(options.args === undefined ? {} : { args: options.args }) });
  t.after(() => daemon.stop());
  return { dir, file, daemon, client: daemon.client() };
}

/** Saved as most editors save: a new file renamed over the old one. */
function saveByRename(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const budgets = async (c: RemoteCoordinator): Promise<Record<string, number>> =>
  Object.fromEntries((await c.budgetStatus()).map((b) => [b.scope, b.limit]));

function logLines(daemon: RunningDaemon): Array<Record<string, unknown>> {
  const text = readFileSync(join(daemon.record.stateDir, 'logs', `daemon-${daemon.record.pid}.log`), 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('the daemon applies baton.toml at start and again when it changes; a bad edit leaves the last good one in force', async (t) => {
  const { file, daemon, client } = await daemonOver(t, FILE);
  // At start: the budgets and the rate limit are there before any client asked.
  const started = await budgets(client);
  assert.deepEqual(started, { '*': 1000, 'agent:claude': 500, 'agent:gone': 300 });
  assert.deepEqual((await client.rateLimitStatus()).map((l) => [l.key, l.rate, l.burst]), [['api', 2, 10]]);
  // A budget made by hand, never named in the file: the file leaves it alone.
  await client.setBudget({ model: 'by-hand', limit: 42 });

  // An editor's save (rename over the file): the running daemon's budget and rate limit change.
  saveByRename(file, FILE.replace('total = 1000', 'total = 2000').replace('rate = 2,', 'rate = 5,').replace('gone = 300\n', ''));
  // A reload writes its changes one by one (a budget set, one removed, a limit set): judged once the last has landed.
  const reloaded = await until('the reload applied whole', async () => {
    const now = await budgets(client);
    const rates = (await client.rateLimitStatus()).map((l) => l.rate);
    return now['*'] === 2000 && !('agent:gone' in now) && rates.includes(5) ? now : undefined;
  });
  assert.deepEqual(reloaded, { '*': 2000, 'agent:claude': 500, 'model:by-hand': 42 });
  assert.deepEqual((await client.rateLimitStatus()).map((l) => [l.key, l.rate]), [['api', 5]]);
  console.log(`reloaded: ${JSON.stringify(reloaded)}`);

  // Bad edits, saved in place: each refused in the log with file:line: reason; nothing changes.
  const bad = [
    { text: FILE.replace('total = 1000', 'total = -1'), line: 2, reason: 'budget.total must be >= 0, got -1' },
    { text: FILE.replace('period = "daily"', 'period = "daily'), line: 3, reason: /^not valid TOML: / },
    { text: FILE.replace('[daemon]', '[daemon]\nmax_qeue = 1'), line: 13, reason: 'unknown key "daemon.max_qeue"' },
  ];
  for (const [i, edit] of bad.entries()) {
    writeFileSync(file, edit.text);
    const refusals = await until(`refusal ${i + 1} in the log`, () => {
      const found = logLines(daemon).filter((l) => l.level === 'warn' && String(l.message).includes('configuration refused'));
      return found.length > i ? found : undefined;
    });
    const refused = refusals[i]!;
    assert.equal(refused.file, file);
    assert.equal(refused.line, edit.line);
    if (typeof edit.reason === 'string') assert.equal(refused.reason, edit.reason);
    else assert.match(String(refused.reason), edit.reason);
    assert.ok(String(refused.message).includes(`${file}:${edit.line}: `), String(refused.message));
    console.log(`refused: ${String(refused.message)}`);
    assert.deepEqual(await budgets(client), reloaded, 'the last good configuration stays in force');
    assert.deepEqual((await client.rateLimitStatus()).map((l) => [l.key, l.rate]), [['api', 5]]);
  }

  // The watch goes on after a refusal; a change of a setting read at start says it waits for the next start.
  saveByRename(file, FILE.replace('total = 1000', 'total = 3000').replace('max_queue = 100', 'max_queue = 200'));
  await until('the total after the fix', async () => ((await budgets(client))['*'] === 3000 ? true : undefined));
  const line = await until('the reload line', () => logLines(daemon).findLast((l) => l.message === 'configuration reloaded' && Array.isArray(l.appliesAtNextStart)));
  assert.deepEqual(line.appliesAtNextStart, [`daemon.max_queue (${file}:13)`]);
  assert.equal((await client.status()).daemon?.writer.maxQueue, 100, 'the queue limit is read at start only');
});

test('at start the flags win over the environment, which wins over the file', async (t) => {
  const { client } = await daemonOver(t, FILE, { env: { BATON_MAX_QUEUE: '77', BATON_BUDGET_TOTAL: '5000' }, args: ['--max-connections', '9'] });
  const status = (await client.status()).daemon!;
  assert.equal(status.writer.maxQueue, 77, 'env BATON_MAX_QUEUE over the file');
  assert.equal(status.limits.maxConnections, 9, '--max-connections over the file');
  assert.equal((await budgets(client))['*'], 5000, 'env BATON_BUDGET_TOTAL over the file');
});
