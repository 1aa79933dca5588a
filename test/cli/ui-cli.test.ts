// `baton ui`: starts the project's daemon if none runs, and opens (or prints)
// a one-time link to its dashboard. The link itself and what it lets in are
// tested in test/server/dashboard-access.test.ts and, in Chromium, test/ui/.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { join } from 'node:path';
import { baton, sleep, tempDir } from '../helpers/procs.ts';

/** A project with its state in BATON_HOME and a stand-in dashboard build; stops the daemon it starts. */
function project(t: TestContext): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir(t, 'baton-ui-cli-');
  const uiDir = join(dir, 'ui-build');
  mkdirSync(uiDir);
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>baton</title>');
  const home = join(dir, 'state');
  t.after(() => {
    try {
      process.kill((JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number }).pid, 'SIGTERM');
    } catch {
      // none started, or gone already
    }
  });
  // No display and no $BROWSER: nothing to open a browser with.
  return { dir, env: { BATON_HOME: home, BATON_UI_DIR: uiDir, BATON_NO_DAEMON: '', DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '' } };
}

const status = (url: string): Promise<number> =>
  new Promise((resolve, reject) => request(url, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject).end());

test('baton ui starts the daemon and prints a one-time link where no browser can be opened', async (t) => {
  const { dir, env } = project(t);
  const printed = await baton(['ui'], { cwd: dir, env });
  assert.equal(printed.code, 0, printed.stderr);
  const match = /^Open (http:\/\/127\.0\.0\.1:\d+\/ui\/login\?ticket=[A-Za-z0-9_-]+)\n\(the link signs one browser in, once, within two minutes; then the dashboard is at http:\/\/127\.0\.0\.1:\d+\/ui\/\)\n$/.exec(printed.stdout);
  assert.ok(match, printed.stdout);
  assert.equal(await status(match[1]!), 303, 'the link signs in');
  assert.equal(await status(match[1]!), 401, 'once');

  const json = await baton(['ui', '--json', '--read-only'], { cwd: dir, env });
  assert.equal(json.code, 0, json.stderr);
  const link = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(link).sort(), ['expiresAt', 'opened', 'origin', 'readOnly', 'url']);
  assert.equal(link.readOnly, true);
  assert.equal(link.opened, false);
  assert.equal(link.origin, new URL(match[1]!).origin, 'the same listener for every link');
});

test('baton ui opens the link with $BROWSER, and --no-open only prints it', async (t) => {
  const { dir, env } = project(t);
  const seen = join(dir, 'opened.txt');
  const browser = join(dir, 'browser.sh');
  writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
  chmodSync(browser, 0o755);
  const opened = await baton(['ui'], { cwd: dir, env: { ...env, BROWSER: browser } });
  assert.equal(opened.code, 0, opened.stderr);
  const url = /^Opened (\S+)\n/.exec(opened.stdout)?.[1];
  assert.ok(url, opened.stdout);
  for (let i = 0; i < 100 && !readIf(seen); i++) await sleep(20);
  // Not the link itself (a process's arguments are readable by every user): a file of ours that redirects to it.
  const given = readIf(seen);
  assert.match(given, /^file:\/\/.*\/ui-open\.html$/);
  const file = fileURLToPath(given);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(readFileSync(file, 'utf8').includes(`content="0;url=${url}"`), 'the file sends the browser on to the link');

  writeFileSync(seen, '');
  const notOpened = await baton(['ui', '--no-open'], { cwd: dir, env: { ...env, BROWSER: browser } });
  assert.match(notOpened.stdout, /^Open http/);
  await sleep(200);
  assert.equal(readIf(seen), '', '--no-open opens nothing');
});

test('baton ui without a daemon, and with bad arguments: one line, exit non-zero', async (t) => {
  const { dir, env } = project(t);
  const embedded = await baton(['ui', '--no-open'], { cwd: dir, env: { ...env, BATON_NO_DAEMON: '1' } });
  assert.equal(embedded.code, 1);
  assert.match(embedded.stderr, /^baton: the dashboard is served by the daemon.*\[UNAVAILABLE\]\n$/);
  const extra = await baton(['ui', 'now'], { cwd: dir, env });
  assert.equal(extra.code, 2);
  assert.equal(extra.stderr.trimEnd().split('\n').length <= 2, true, extra.stderr);
  const help = await baton(['ui', '--help'], { cwd: dir, env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: baton ui \[--no-open\] \[--read-only\] \[--sign-out\]/);
});

test('baton ui --sign-out signs every browser out', async (t) => {
  const { dir, env } = project(t);
  const urls = [];
  for (let i = 0; i < 2; i++) urls.push(JSON.parse((await baton(['ui', '--json'], { cwd: dir, env })).stdout).url as string);
  for (const url of urls) assert.equal(await status(url), 303);
  const out = await baton(['ui', '--sign-out'], { cwd: dir, env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'signed out 2 dashboard sessions\n');
  assert.equal(JSON.parse((await baton(['ui', '--sign-out', '--json'], { cwd: dir, env })).stdout).ended, 0);
});

function readIf(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
