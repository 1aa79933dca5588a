// baton.toml: `baton config check|show`, and the file's refusals, each with
// file, line and reason; the environment over the file; the auth settings'
// variables are the ones the credentials read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { oauthSettings } from '../../src/credentials/providers.ts';
import { root } from '../../support/paths.ts';
import { baton, tempDir } from '../helpers/procs.ts';

/** No variable of the developer's own reaches the commands under test. */
const hermetic: Record<string, string> = { BATON_CONFIG: '', BATON_HOME: '', ...Object.fromEntries(SETTINGS.map((s) => [s.env, ''])) };

const GOOD = `# the project's coordination settings
[budget]
total = 5_000_000
period = "daily"

[budget.agents]
claude = 2_000_000
codex = { limit = 1_000_000, period = "monthly" }

[rate_limits]
"gemini.api" = { rate = 2, burst = 10 }

[daemon]
max_queue = 100
request_timeout = "45s"
`;

function project(t: TestContext, text?: string): string {
  const dir = tempDir(t);
  execFileSync('git', ['init', '-q', dir]);
  if (text !== undefined) writeFileSync(join(dir, 'baton.toml'), text);
  return dir;
}

test('config check refuses a bad file with file, line and reason, and exit 1', async (t) => {
  const cases: Array<{ name: string; edit: (s: string) => string; line: number; reason: RegExp }> = [
    { name: 'a syntax error', edit: (s) => s.replace('period = "daily"', 'period = "daily'), line: 4, reason: /not valid TOML/ },
    { name: 'an unknown key', edit: (s) => s.replace('total =', 'totl ='), line: 3, reason: /unknown key "budget\.totl"/ },
    { name: 'an unknown table', edit: (s) => s.replace('[daemon]', '[deamon]'), line: 13, reason: /unknown key "deamon"/ },
    { name: 'a negative budget', edit: (s) => s.replace('total = 5_000_000', 'total = -5'), line: 3, reason: /budget\.total must be >= 0, got -5/ },
    { name: 'a negative budget in an inline table', edit: (s) => s.replace('limit = 1_000_000', 'limit = -1'), line: 8, reason: /budget\.agents\.codex/ },
    { name: 'a rate out of range under a quoted key', edit: (s) => s.replace('burst = 10', 'burst = 0'), line: 11, reason: /rate_limits\["gemini\.api"\]\.burst must be > 0, got 0/ },
    { name: 'a bad duration', edit: (s) => s.replace('"45s"', '"soon"'), line: 15, reason: /daemon\.request_timeout must be a duration/ },
    { name: 'a secret', edit: (s) => `${s}\n[auth.gemini]\nclient_secret = "x"\n`, line: 18, reason: /is a secret .* GOOGLE_OAUTH_CLIENT_SECRET/ },
  ];
  for (const c of cases) {
    const dir = project(t, c.edit(GOOD));
    const run = await baton(['config', 'check'], { cwd: dir, env: hermetic });
    assert.equal(run.code, 1, `${c.name}: ${run.stderr}`);
    const file = join(dir, 'baton.toml');
    assert.ok(run.stderr.startsWith(`baton: ${file}:${c.line}: `), `${c.name}: ${run.stderr}`);
    assert.match(run.stderr, c.reason, c.name);
    assert.match(run.stderr, /\[CONFIG_INVALID\]\n$/, c.name);
    console.log(`${c.name}: ${run.stderr.trim()}`);
  }
});

test('config check accepts a good file, and no file at all; a file named on purpose must exist', async (t) => {
  const dir = project(t, GOOD);
  const ok = await baton(['config', 'check', '--json'], { cwd: dir, env: hermetic });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { file: join(dir, 'baton.toml'), exists: true, ok: true, fromFile: 4, fromEnv: 0, budgets: 3, rateLimits: 1 });

  const none = await baton(['config', 'check'], { cwd: project(t), env: hermetic });
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^no baton\.toml: the defaults apply/);

  const missing = await baton(['config', 'check', '--file', join(dir, 'other.toml')], { cwd: dir, env: hermetic });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no configuration file .*other\.toml .*\[NOT_FOUND\]/);
});

test('config show gives each value and its source: the environment over the file over the default', async (t) => {
  const dir = project(t, GOOD);
  const run = await baton(['config', 'show', '--json'], { cwd: dir, env: { ...hermetic, BATON_MAX_QUEUE: '77', BATON_BUDGET_WARN_PERCENT: '90' } });
  assert.equal(run.code, 0, run.stderr);
  const shown = JSON.parse(run.stdout) as {
    settings: Array<{ key: string; value: unknown; source: { kind: string; line?: number; name?: string }; applies: string }>;
    budgets: Array<{ agent?: string; limit: number; period: string; warnPercent: number; source: { line?: number } }>;
    rateLimits: Array<{ key: string; rate: number; burst: number }>;
  };
  const at = (key: string) => shown.settings.find((s) => s.key === key)!;
  assert.deepEqual(at('budget.total'), { key: 'budget.total', value: 5_000_000, source: { kind: 'file', file: join(dir, 'baton.toml'), line: 3 }, env: 'BATON_BUDGET_TOTAL', applies: 'live' });
  // The file says 100; the environment wins.
  assert.deepEqual(at('daemon.max_queue').source, { kind: 'env', name: 'BATON_MAX_QUEUE' });
  assert.equal(at('daemon.max_queue').value, 77);
  assert.equal(at('daemon.request_timeout').value, 45_000);
  assert.equal(at('daemon.request_timeout').applies, 'next start');
  assert.deepEqual(at('daemon.max_body').source, { kind: 'default' });
  // The budgets take the period and warning of [budget] unless they say their own.
  assert.deepEqual(
    shown.budgets.map((b) => [b.agent ?? '*', b.limit, b.period, b.warnPercent, b.source.line]),
    [['*', 5_000_000, 'daily', 90, 3], ['claude', 2_000_000, 'daily', 90, 7], ['codex', 1_000_000, 'monthly', 90, 8]],
  );
  assert.deepEqual(shown.rateLimits.map((l) => [l.key, l.rate, l.burst]), [['gemini.api', 2, 10]]);

  const text = await baton(['config', 'show'], { cwd: dir, env: { ...hermetic, BATON_MAX_QUEUE: '77' } });
  assert.match(text.stdout, /^daemon\.max_queue +77 +next start +env BATON_MAX_QUEUE$/m);
  assert.match(text.stdout, /^budget\.total +5000000 +live +baton\.toml:3$/m);
  assert.match(text.stdout, /^daemon\.request_timeout +45s +next start +baton\.toml:15$/m);

  // A variable is checked as the file is.
  const bad = await baton(['config', 'check'], { cwd: dir, env: { ...hermetic, BATON_BUDGET_TOTAL: '-3' } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /BATON_BUDGET_TOTAL must be >= 0, got -3 \(it overrides budget\.total\) \[CONFIG_INVALID\]/);
});

test('baton serve refuses to start on a bad file, naming file and line', async (t) => {
  const dir = project(t, GOOD.replace('max_queue = 100', 'max_queue = 0'));
  const run = await baton(['serve'], { cwd: dir, env: hermetic });
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`${join(dir, 'baton.toml')}:14: daemon\\.max_queue must be >= 1, got 0 \\[CONFIG_INVALID\\]`));
});

test("the auth settings' variables are the ones the credentials read", () => {
  for (const setting of SETTINGS.filter((s) => s.key.startsWith('auth.gemini.'))) {
    const field = setting.key.slice('auth.gemini.'.length).replace('client_id', 'clientId');
    const value = field === 'scopes' ? 'a b' : field === 'issuer' ? 'https://issuer.example' : 'v';
    const read = oauthSettings('gemini', { [setting.env]: value }) as unknown as Record<string, unknown>;
    assert.deepEqual(read[field], field === 'scopes' ? ['a', 'b'] : value, setting.env);
  }
});

test('a key is found on its line wherever TOML lets it be written', async () => {
  const text = ['[budget]', 'agents.claude = 5', '', '[budget.models]', "'gpt-x' = { limit = -2 }", '[rate_limits.k]', 'rate = 1', 'burst = -1'].join('\n');
  await assert.rejects(parseConfig('f.toml', text), /^BatonError: f\.toml:5: budget\.models\["gpt-x"\]/);
  await assert.rejects(parseConfig('f.toml', text.replace('limit = -2', 'limit = 2')), /^BatonError: f\.toml:8: rate_limits\.k\.burst must be > 0, got -1/);
  const good = await parseConfig('f.toml', text.replace('limit = -2', 'limit = 2').replace('burst = -1', 'burst = 1'));
  assert.equal(good.lines.lineOf(['budget', 'agents', 'claude']), 2);
});

test('the commented example in docs/config.md is a valid file, and the page names every setting and its variable', async () => {
  const page = readFileSync(join(root, 'docs/config.md'), 'utf8');
  const example = /```toml\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(example !== undefined, 'docs/config.md has a toml block');
  const checked = await parseConfig('docs/config.md', example);
  for (const setting of SETTINGS) {
    assert.ok(page.includes(`\`${setting.key}\``), `docs/config.md names ${setting.key}`);
    assert.ok(page.includes(`\`${setting.env}\``), `docs/config.md names ${setting.env}`);
  }
  // The example sets every single value, so none of them is left undocumented by example.
  const unset = SETTINGS.filter((s) => s.key.split('.').reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], checked.data) === undefined);
  assert.deepEqual(unset.map((s) => s.key), []);
});
