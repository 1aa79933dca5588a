// The daemon's log files: secrets redacted on the way out, rotation by size
// with a bounded number kept, old processes' files pruned, and `baton logs`
// reading them (filtered by request id or level, and followed through
// rotations by a real child process while another one writes).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, pruneOldLogs } from '../../src/server/log.ts';
import { redact } from '../../src/server/redact.ts';
import { baton, startNode, tempDir, worker } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';

const SECRETS = {
  bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature',
  apiToken: 'baton_0123456789abcdef_ZmFrZS1zZWNyZXQtdmFsdWUtZm9yLXRlc3Rz',
  webhook: 'whsec_4mCEtU3M9aEaZ9k2Vl4CD0et8H6Pyb8',
  googleKey: 'AIzaSyD-fake-key-for-tests-0123456789abcd',
  googleToken: 'ya29.a0AfH6SMBfake-access-token',
};

async function lines(file: string): Promise<Array<Record<string, unknown>>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('secrets never reach the log file: by field name at any depth, and by shape inside messages and values', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'daemon-1.log');
  const log = createLogger({ file, stdout: false });
  log.info(`request failed: upstream said ${SECRETS.bearer}`, {
    headers: { Authorization: SECRETS.bearer, cookie: 'baton_ui_4000=abc', 'X-Baton-Signature': 'v1=deadbeef', 'user-agent': 'curl/8' },
    body: { access_token: 'opaque-token', refresh_token: 'opaque-refresh', nested: [{ client_secret: 'cs', note: `key ${SECRETS.googleKey}` }] },
    error: `invalid token ${SECRETS.apiToken}`,
    secret: SECRETS.webhook,
    detail: `webhook signed with ${SECRETS.webhook}; access ${SECRETS.googleToken}`,
  });
  await log.close();
  const text = readFileSync(file, 'utf8');
  for (const [name, value] of Object.entries({ ...SECRETS, bearerPayload: 'eyJhbGciOiJIUzI1NiJ9', opaque: 'opaque-token', refresh: 'opaque-refresh', cookie: 'abc', signature: 'deadbeef', cs: '"cs"' })) {
    assert.ok(!text.includes(value), `${name} leaked into the log: ${text}`);
  }
  const [line] = await lines(file);
  // What is not secret stays, so the line is still useful.
  assert.equal((line!.headers as Record<string, unknown>)['user-agent'], 'curl/8');
  assert.match(String(line!.message), /^request failed: upstream said Bearer \[redacted\]$/);
  assert.deepEqual(redact({ token: null, n: 3 }), { token: null, n: 3 }, 'an absent secret is not turned into one');
});

test('a log file rotates past its size, keeps the set number of older files, and loses no line among those kept', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'daemon-2.log');
  const maxBytes = 4_000;
  const log = createLogger({ file, stdout: false, maxBytes, keep: 2 });
  for (let n = 0; n < 400; n++) log.info('line', { n });
  await log.close();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the rotated streams' last writes
  const names = readdirSync(dir).sort();
  assert.deepEqual(names, ['daemon-2.log', 'daemon-2.log.1', 'daemon-2.log.2'], 'the live file and two rotated ones, no more');
  for (const name of names) assert.ok(statSync(join(dir, name)).size <= maxBytes, `${name} is ${statSync(join(dir, name)).size} bytes`);
  const kept = [...(await lines(`${file}.2`)), ...(await lines(`${file}.1`)), ...(await lines(file))].map((l) => l.n as number);
  assert.equal(kept.at(-1), 399, 'the newest line is kept');
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => 400 - kept.length + i), 'the kept lines run without a gap, in order');
  t.diagnostic(`${kept.length} of 400 lines kept in 3 files of at most ${maxBytes} bytes`);
});

test("at start only the newest processes' log files stay", (t) => {
  const dir = tempDir(t);
  const now = Date.now() / 1000;
  for (let pid = 100; pid < 115; pid++) {
    for (const suffix of ['', '.1']) writeFileSync(join(dir, `daemon-${pid}.log${suffix}`), '{}\n');
    utimesSync(join(dir, `daemon-${pid}.log`), now - 1000 + pid, now - 1000 + pid);
    utimesSync(join(dir, `daemon-${pid}.log.1`), now - 2000, now - 2000);
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a log');
  pruneOldLogs(dir, 100, 4);
  const left = readdirSync(dir).sort();
  assert.deepEqual(left, ['daemon-100.log', 'daemon-100.log.1', 'daemon-112.log', 'daemon-112.log.1', 'daemon-113.log', 'daemon-113.log.1', 'daemon-114.log', 'daemon-114.log.1', 'notes.txt']);
});

test('baton logs: merged in time order, filtered by request id and level; bad options refused in one line', async (t) => {
  const state = tempDir(t);
  const logs = join(state, 'logs');
  mkdirSync(logs);
  const entry = (at: string, pid: number, level: string, message: string, extra: Record<string, unknown> = {}): string => `${JSON.stringify({ at, level, pid, message, ...extra })}\n`;
  writeFileSync(join(logs, 'daemon-7.log.1'), entry('2026-01-01T00:00:01.000Z', 7, 'info', 'one', { requestId: 'a' }) + entry('2026-01-01T00:00:03.000Z', 7, 'warn', 'three'));
  writeFileSync(join(logs, 'daemon-7.log'), entry('2026-01-01T00:00:05.000Z', 7, 'error', 'five', { requestId: 'a' }) + '{"at":"2026-01-01T00:00:06');
  writeFileSync(join(logs, 'daemon-9.log'), entry('2026-01-01T00:00:02.000Z', 9, 'info', 'two', { requestId: 'b' }) + entry('2026-01-01T00:00:04.000Z', 9, 'info', 'four', { requestId: 'a' }));
  const run = (...args: string[]) => baton(['logs', '--state-dir', state, ...args]);

  const all = await run('--json');
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message), ['one', 'two', 'three', 'four', 'five'], 'a line cut by a crash is skipped');
  const one = await run('--request', 'a');
  assert.deepEqual(one.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)[3]), ['one', 'four', 'five']);
  assert.match(one.stdout, /^2026-01-01T00:00:01\.000Z {2}info {3}\s+7 {2}one {2}\{"requestId":"a"\}$/m);
  const warn = await run('--level', 'warn', '-n', '1', '--json');
  assert.deepEqual(warn.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message), ['five']);

  for (const [args, says] of [
    [['--level', 'debug'], /--level must be one of info, warn, error, got "debug"/],
    [['--lines', '-3'], /--lines/],
    [['--request', ''], /--request must name a request id/],
    [['--request', 'a'.repeat(5000)], /--request must name a request id \(1 to 128 .*\(5000 characters\)/],
    [['--request', '../../etc'], /--request must name a request id/],
    [['extra'], /unexpected argument "extra"; see 'baton logs --help'/],
  ] as const) {
    const bad = await run(...args);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, says);
  }
});

test('baton logs --follow: every line of a writer in another process, once, in order, through many rotations', async (t) => {
  const state = tempDir(t);
  const logs = join(state, 'logs');
  mkdirSync(logs);
  const file = join(logs, 'daemon-4242.log');
  writeFileSync(file, '');
  const follower = startNode(cli, ['logs', '--state-dir', state, '--follow', '--json', '--request', 'r3']);
  t.after(() => follower.child.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 500)); // its first poll has read the empty file
  const count = 700;
  const writer = startNode(worker('log-writer'), [file, String(count), '3000', '50']);
  await writer.line('done', 60_000);
  const rotated = readdirSync(logs).length - 1;
  const expected = Array.from({ length: count }, (_, n) => n).filter((n) => n % 7 === 3);
  const deadline = Date.now() + 20_000;
  while (follower.lines().length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 600)); // nothing more may come
  follower.child.kill('SIGTERM');
  const finished = await follower.done;
  assert.equal(finished.code, 0, `SIGTERM ends --follow cleanly: ${finished.stderr}`);
  const seen = follower.lines().map((l) => JSON.parse(l) as { n: number; authorization: string });
  assert.deepEqual(seen.map((l) => l.n), expected, 'each line of request r3 once, in order');
  assert.ok(seen.every((l) => l.authorization === '[redacted]'));
  assert.ok(rotated >= 5, `the writer rotated only ${rotated} times: the test proves too little`);
  t.diagnostic(`${seen.length} lines followed through ${rotated} rotations`);
});
