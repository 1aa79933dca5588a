// What a webhook may not be: a bad URL, a huge or malformed one, an unknown
// event prefix, a target on this machine's networks. Each is one clear line
// from `baton webhook add`, a 4xx with a stable code on the API, and nothing
// stored. Also: which addresses the guard refuses, and that every event type
// the code writes is in the one list prefixes are checked against.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { EVENT_TYPES } from '../../src/engine/event-types.ts';
import { createToken } from '../../src/project/tokens.ts';
import { parseWebhookUrl, refusedBecause } from '../../src/server/webhooks/url-guard.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, sleep, tempDir } from '../helpers/procs.ts';
import { receiver, webhookCli, type Added } from './webhooks-support.ts';

test('bad webhooks are refused with one clear line, and nothing is stored', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  // A daemon that does not allow private targets: the default.
  const d = await startDaemon(stateDir, { cwd: dirname(stateDir) });
  t.after(() => d.stop());
  // The exit status: 2 for INVALID_ARGUMENT (bad usage), 1 for PERMISSION_DENIED.
  const cases: Array<[string[], RegExp, number]> = [
    [['ftp://example.com/hook'], /must be http: or https:, got ftp:/, 2],
    [['file:///etc/passwd'], /must be http: or https:, got file:/, 2],
    [['not a url'], /whitespace or control characters/, 2],
    [['notaurl'], /not a URL: "notaurl"/, 2],
    [['http://'], /not a URL: "http:\/\/"/, 2],
    [[`https://example.com/${'a'.repeat(5000)}`], /url is longer than 2048 characters/, 2],
    [['https://user:pw@example.com/hook'], /must not carry credentials .*"https:\/\/\*\*\*@example\.com\/hook"/, 2],
    [['https://example.com/hook', '--event', 'tasks.'], /unknown event prefix "tasks\."/, 2],
    [['https://example.com/hook', '--event', 'task'], /unknown event prefix "task" \(a whole family ends with a dot: "task\."\)/, 2],
    [['http://127.0.0.1:9/hook'], /"127\.0\.0\.1" is a loopback address: refused/, 1],
    [['http://localhost:9/hook'], /"localhost" resolves to (127\.0\.0\.1|::1), a (loopback|unspecified, loopback or IPv4-compatible) address/, 1],
    [['http://169.254.169.254/latest/meta-data'], /link-local \(cloud metadata\)/, 1],
    [['http://[::ffff:10.0.0.1]/'], /IPv4-mapped/, 1],
    [['http://10.1.2.3/hook'], /a private address/, 1],
    [['http://127.0.0.1:9/hook', '--allow-private'], /this daemon does not deliver to private addresses: start it with 'baton serve --webhooks-allow-private'/, 1],
    [['https://example.com/hook', '--disable-after', 'soon'], /--disable-after must be a duration/, 2],
  ];
  for (const [args, message, code] of cases) {
    const label = args.join(' ').slice(0, 100);
    const run = await baton(['webhook', 'add', ...args, '--state-dir', stateDir], { env: { BATON_NO_DAEMON: '' } });
    assert.equal(run.code, code, `${label}: ${run.stderr}`);
    assert.match(run.stderr, message, label);
    assert.equal(run.stderr.trim().split('\n').filter((l) => !l.startsWith('usage:') && !l.startsWith('Did you mean')).length, 1, `one line: ${run.stderr}`);
    assert.ok(run.stderr.length < 600, `the message stays short: ${run.stderr.length}`);
  }
  // On the API: the stable code, a 4xx.
  const c = d.client({ retryForMs: 0 });
  await assert.rejects(c.daemonOperation('webhookAdd', { url: 'gopher://example.com/' }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(c.daemonOperation('webhookAdd', { url: 'http://127.0.0.1/' }), { code: 'PERMISSION_DENIED' });
  await assert.rejects(c.daemonOperation('webhookAdd', { url: 'x'.repeat(3000) }), (e: Error & { code: string }) => e.code === 'INVALID_ARGUMENT' && /2048/.test(e.message));
  await assert.rejects(c.daemonOperation('webhookRemove', { id: 'ep_nope' }), { code: 'NOT_FOUND' });
  await assert.rejects(c.daemonOperation('webhookTest', { id: 'ep_nope' }), { code: 'NOT_FOUND' });
  assert.deepEqual(await webhookCli(stateDir, ['list']), [], 'nothing stored');
  assert.deepEqual((await c.events({ types: ['webhook.'] })).length, 0, 'no webhook.added event either');
});

test('the guard refuses loopback, private, link-local, shared, unspecified, multicast and mapped addresses; public ones pass', () => {
  for (const address of ['127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
    assert.notEqual(refusedBecause(address), null, address);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888']) {
    assert.equal(refusedBecause(address), null, address);
  }
  // Forms the URL parser turns into a loopback address are caught after it: decimal, hex, short.
  for (const raw of ['http://2130706433/', 'http://0x7f000001/', 'http://127.1/']) assert.equal(refusedBecause(parseWebhookUrl(raw).hostname), 'loopback', raw);
});

test('every event type the code writes is in EVENT_TYPES, the list webhook prefixes are checked against', () => {
  const written = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/emit\(tx, '([a-z]+\.[a-z.]+)'|type: '([a-z]+\.[a-z.]+)'|'((?:task|credential)\.[a-z]+)'/g)) written.add((m[1] ?? m[2] ?? m[3])!);
      }
    }
  };
  walk(join(import.meta.dirname, '../../src'));
  assert.ok(written.size > 30, `found the types written (${written.size})`);
  const missing = [...written].filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
  assert.deepEqual(missing, [], 'types written but not listed in src/engine/event-types.ts');
});

test('the target is checked again at every send: a daemon that does not allow private targets sends nothing to one', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const hook = await receiver(t);
  const allowing = await startDaemon(stateDir, { cwd: dirname(stateDir), args: ['--webhooks-allow-private'] });
  t.after(() => allowing.stop());
  const added = (await webhookCli(stateDir, ['add', hook.url, '--event', 'task.added', '--allow-private'])) as Added;
  await allowing.stop();
  const strict = await startDaemon(stateDir, { cwd: dirname(stateDir) });
  t.after(() => strict.stop());
  await strict.client().addTask({ title: 'x' });
  let rows: Array<{ attempts: number; lastError: string | null }> = [];
  for (let i = 0; rows[0]?.attempts !== 1; i++) {
    assert.ok(i < 100, 'one attempt recorded');
    await sleep(100);
    rows = (await webhookCli(stateDir, ['deliveries', added.endpoint.id])) as typeof rows;
  }
  assert.match(rows[0]!.lastError!, /"127\.0\.0\.1" is a loopback address: refused/);
  assert.equal(hook.received.length, 0, 'nothing reached the receiver');
});

test('only a full token manages webhooks, or lists them: read, tasks and files tokens are refused', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const d = await startDaemon(stateDir, { cwd: dirname(stateDir), args: ['--listen', '127.0.0.1:0'] });
  t.after(() => d.stop());
  const listen = d.record.listen!;
  const client = async (scopes: string[]): Promise<RemoteCoordinator> => {
    const { token } = await createToken(stateDir, scopes.join('-'), { scopes });
    const c = new RemoteCoordinator({ host: '127.0.0.1', port: Number(listen.slice(listen.lastIndexOf(':') + 1)), token, retryForMs: 0 });
    t.after(() => c.close());
    return c;
  };
  for (const scopes of [['read'], ['tasks', 'files', 'credentials']]) {
    const c = await client(scopes);
    await assert.rejects(c.daemonOperation('webhookList', {}), { code: 'PERMISSION_DENIED' }, scopes.join());
    await assert.rejects(c.daemonOperation('webhookDeliveries', {}), { code: 'PERMISSION_DENIED' }, scopes.join());
    await assert.rejects(c.daemonOperation('webhookAdd', { url: 'https://example.com/' }), { code: 'PERMISSION_DENIED' }, scopes.join());
  }
  assert.deepEqual(await (await client(['full'])).daemonOperation('webhookList', {}), []);
});
