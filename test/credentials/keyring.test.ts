// Where a login is kept. The OS keyring, against a real Secret Service
// (Debian's gnome-keyring under dbus-run-session, started here when it is
// installed); the file fallback always.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LoginStore } from '../../src/credentials/login-store.ts';
import { saveLogin } from '../../src/credentials/logins.ts';
import { CredentialBroker } from '../../src/credentials/broker.ts';
import { tempDir } from '../helpers/procs.ts';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const secretService = has('gnome-keyring-daemon') && has('dbus-run-session');

test('the OS keyring: a login goes there when one answers, and the file then holds no secret', { skip: secretService ? false : 'gnome-keyring-daemon or dbus-run-session is not installed (apt-get install gnome-keyring)' }, (t) => {
  const home = tempDir(t, 'baton-keyring-');
  const dir = join(home, 'credentials');
  const check = new URL('../../support/workers/keyring-check.ts', import.meta.url).pathname;
  // A fresh keyring in a private home, unlocked with a password on stdin, for this session only.
  const script = `printf test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "${process.execPath}" "${check}" "${dir}"`;
  const run = spawnSync('dbus-run-session', ['--', 'sh', '-c', script], {
    env: { PATH: process.env.PATH, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: join(home, 'config') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(result, { location: 'keyring', fileHasKey: false, token: 'AIzaKeyringTest-42', inKeyring: true, removedFrom: 'keyring', afterDelete: false });
});

test('the file fallback: no keyring answers (no D-Bus session), so the login is a 0600 file in a 0700 directory', { skip: process.platform === 'linux' ? false : 'elsewhere the system keyring answers without D-Bus' }, async (t) => {
  const dir = join(tempDir(t, 'baton-filestore-'), 'credentials');
  const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(dir, 'no-bus')}`;
  t.after(() => {
    if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
  });
  const store = new LoginStore(dir, 'gemini');
  assert.equal(await saveLogin(store, { mode: 'api-key', apiKey: 'AIzaFileKey', savedAt: 1 }, 'auto'), 'file');
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal((JSON.parse(readFileSync(store.path, 'utf8')) as { location: string }).location, 'file');
  assert.equal((await new CredentialBroker({ dir, env: {} }).get('gemini')).token, 'AIzaFileKey');
  // A file cut short or edited by hand is refused by name, its content never echoed.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(store.path, '{"version":1,"generation":2,"location":"file","login":{"mode":"api-key","apiKey":"AIzaSecret"}}');
  await assert.rejects(new CredentialBroker({ dir, env: {} }).get('gemini'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CORRUPT_FILE');
    assert.match(e.message, /missing or malformed savedAt/);
    assert.ok(!e.message.includes('AIzaSecret'));
    return true;
  });
});
