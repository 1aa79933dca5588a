// HMAC key rotation (`baton auth rotate-key`): the replaced key verifies through
// its overlap and is refused after it, by the daemon's clock; a client from
// before key ids (no X-Baton-Key-Id) still works; a running daemon and the
// clients that read hmac.key follow a rotation without a restart; the files
// stay consistent whatever a crash or a race leaves.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connectToRunningDaemon } from '../../src/client/open.ts';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError } from '../../src/errors.ts';
import { ensureHmacSecret, readRetiring, writeRetiring } from '../../src/project/hmac-key.ts';
import { MAX_RETIRING_KEYS, rotateHmacKey } from '../../src/project/hmac-rotation.ts';
import { hmacKeyId, KEY_ID_HEADER, signRequest } from '../../src/protocol/signing.ts';
import { Authenticator } from '../../src/server/auth.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { cli } from '../../support/paths.ts';
import { startNode, tempDir } from '../helpers/procs.ts';

interface Rotated {
  keyId: string;
  replaced: { keyId: string; rotatedAt: number; retiresAt: number } | null;
  retiring: Array<{ keyId: string; retiresAt: number }>;
  cutShort: Array<{ keyId: string; retiresAt: number }>;
}

async function rotate(stateDir: string, overlap: string): Promise<Rotated> {
  const run = await startNode(cli, ['auth', 'rotate-key', '--overlap', overlap, '--state-dir', stateDir, '--json']).done;
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Rotated;
}

/** A daemon on TCP only: discovery then signs with the state directory's hmac.key. */
async function tcpDaemon(t: TestContext): Promise<{ stateDir: string; daemon: RunningDaemon; host: string; port: number }> {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  // A stand-in build of the dashboard, for the sessions a key opens.
  const uiDir = join(dir, 'ui-build');
  mkdirSync(uiDir, { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>baton</title>');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--no-socket'], env: { BATON_UI_DIR: uiDir } });
  t.after(() => daemon.stop());
  const listen = daemon.record.listen!;
  return { stateDir, daemon, host: listen.slice(0, listen.lastIndexOf(':')), port: Number(listen.slice(listen.lastIndexOf(':') + 1)) };
}

/** A timestamp no earlier call had: two calls signed with one key in one millisecond would otherwise be one signature, and the second a replay. */
let lastStamp = 0;
const freshStamp = (): number => (lastStamp = Math.max(Date.now(), lastStamp + 1));

/** A request signed with `key` (or, with no key, sent with `extra` headers alone), and its answer. */
function send(target: { host: string; port: number }, method: string, path: string, key: Buffer | undefined, options: { keyId?: boolean; body?: string; extra?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { keyId = true, body = method === 'POST' ? '{}' : '', extra = {} } = options;
  const headers: Record<string, string> = key === undefined ? {} : signRequest(key, method, path, body, freshStamp());
  if (!keyId) delete headers[KEY_ID_HEADER];
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, headers: { ...headers, ...extra, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) } }, async (res) => {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      resolve({ status: res.statusCode!, body: text, headers: res.headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST /v1/listLeases signed with `key`; without its key id when `keyId` is false (a client from before ids). */
function signedCall(target: { host: string; port: number }, key: Buffer, keyId = true): Promise<{ status: number; body: string }> {
  return send(target, 'POST', '/v1/listLeases', key, { keyId });
}

const keyFile = (stateDir: string): Buffer => Buffer.from(readFileSync(join(stateDir, 'hmac.key'), 'utf8'), 'hex');

test('a client signing with the old key works through the overlap and is refused after it, by the daemon clock', async (t) => {
  const { stateDir, daemon, host, port } = await tcpDaemon(t);
  const old = keyFile(stateDir);
  // A copy of the secret, as a client on another machine holds it; and one that reads the file (discovery).
  const copy = new RemoteCoordinator({ host, port, hmacSecret: old, retryForMs: 0 });
  t.after(() => copy.close());
  const reader = await connectToRunningDaemon({ stateDir });
  assert.ok(reader !== undefined, 'discovery finds the TCP-only daemon');
  t.after(() => reader.close());
  await copy.listLeases();

  const rotated = await rotate(stateDir, '5s');
  assert.equal(rotated.replaced!.keyId, hmacKeyId(old));
  const retiresAt = rotated.replaced!.retiresAt;
  const fresh = keyFile(stateDir);
  assert.equal(rotated.keyId, hmacKeyId(fresh));
  assert.ok(!fresh.equals(old));

  // Ask with the old key until refused. The daemon judges each request at some instant between
  // sending and the answer: a success must have been sent before the overlap ended, the refusal
  // answered after it. No assumption about how fast this machine is.
  let firstSent: number | undefined;
  let accepted = 0;
  let refused: Error | undefined;
  while (refused === undefined) {
    const sent = Date.now();
    firstSent ??= sent;
    try {
      await copy.listLeases();
      assert.ok(sent < retiresAt, `the old key was accepted from a request sent ${sent - retiresAt} ms after its overlap ended`);
      accepted++;
    } catch (error) {
      refused = error as Error;
      assert.ok(Date.now() >= retiresAt, `the old key was refused ${retiresAt - Date.now()} ms before its overlap ended: ${refused.message}`);
    }
    // The file's reader signs with the new key all along, and the new key verifies at once: no restart.
    await reader.listLeases();
    assert.equal(JSON.parse((await signedCall({ host, port }, fresh)).body).length, 0);
    if (refused === undefined) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(accepted > 0 || firstSent! >= retiresAt, 'the old key verified during its overlap');
  assert.ok(isBatonError(refused, 'UNAUTHENTICATED'), String(refused));
  assert.match(refused.message, new RegExp(`^key ${hmacKeyId(old)} was retired at ${new Date(retiresAt).toISOString()} `));
  for (const key of [old, fresh]) assert.ok(!refused.message.includes(key.toString('hex')), 'no key in the message');
  // Without its id (a client from before ids) the retired key is recognised too.
  const anonymous = await signedCall({ host, port }, old, false);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.body, new RegExp(`key ${hmacKeyId(old)} was retired`));
  assert.equal(daemon.child.exitCode, null, 'the same daemon throughout');
});

test('a v1 signature without a key id verifies against the current key and every key in its overlap; --overlap 0 retires at once', async (t) => {
  const { stateDir, host, port } = await tcpDaemon(t);
  const target = { host, port };
  const first = keyFile(stateDir);
  assert.equal((await signedCall(target, first, false)).status, 200, 'an old client, no key id');
  assert.equal((await signedCall(target, first)).status, 200);

  await rotate(stateDir, '1h');
  const second = keyFile(stateDir);
  for (const [key, withId] of [[first, false], [first, true], [second, false], [second, true]] as const) {
    const answer = await signedCall(target, key, withId);
    assert.equal(answer.status, 200, `${key === first ? 'old' : 'new'} key ${withId ? 'with' : 'without'} its id: ${answer.body}`);
  }
  const stranger = Buffer.alloc(32, 7);
  const unknown = await signedCall(target, stranger);
  assert.equal(unknown.status, 401);
  assert.match(JSON.parse(unknown.body).error.message, new RegExp(`key ${hmacKeyId(stranger)} is not one of this daemon's keys`));
  assert.match(JSON.parse((await signedCall(target, stranger, false)).body).error.message, /^signature does not match/);

  // An emergency rotation (after a leak): the key it replaces stops at once, and so does every key still in an
  // overlap (whoever has one key of the directory likely has them all): only the new key verifies.
  const emergency = await rotate(stateDir, '0');
  assert.equal(emergency.replaced!.keyId, hmacKeyId(second));
  assert.deepEqual(emergency.retiring, []);
  assert.deepEqual(emergency.cutShort.map((k) => k.keyId), [hmacKeyId(first)]);
  for (const [key, withId] of [[second, true], [second, false], [first, true]] as const) {
    const answer = await signedCall(target, key, withId);
    assert.equal(answer.status, 401);
    assert.match(JSON.parse(answer.body).error.message, new RegExp(`^key ${hmacKeyId(key)} was retired at`));
  }
  assert.equal((await signedCall(target, keyFile(stateDir), false)).status, 200);

  // A malformed key id is refused without being echoed.
  const headers = { ...signRequest(first, 'POST', '/v1/listLeases', '{}'), [KEY_ID_HEADER]: first.toString('hex') };
  const odd = await new Promise<string>((resolve, reject) => {
    const req = request({ ...target, method: 'POST', path: '/v1/listLeases', headers }, async (res) => {
      let body = '';
      for await (const chunk of res) body += String(chunk);
      resolve(`${res.statusCode} ${body}`);
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.match(odd, /^401 .*malformed X-Baton-Key-Id/);
  assert.ok(!odd.includes(first.toString('hex')), 'a key pasted into the id header is not echoed');
});

test('rotation files: hmac.key keeps its format, the list is 0600, a crash between the two writes changes nothing, at most 8 keys overlap', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const before = await ensureHmacSecret(stateDir);
  const auth = new Authenticator({ stateDir });
  const sign = (key: Buffer, withId = true) => {
    const headers = signRequest(key, 'GET', '/v1/whoami', '', Date.now() + Math.floor(Math.random() * 1000));
    if (!withId) delete headers[KEY_ID_HEADER];
    return auth.authenticate({ method: 'GET', path: '/v1/whoami', headers, body: Buffer.alloc(0) });
  };
  assert.deepEqual(await sign(before), { principal: 'hmac', keyId: hmacKeyId(before), admin: true });

  // A rotation that died after its first write: the current key is listed as retiring as well.
  const paths = { key: join(stateDir, 'hmac.key'), list: join(stateDir, 'hmac-retiring.json') };
  writeRetiring(paths.list, [{ key: before, rotatedAt: Date.now(), retiresAt: Date.now() + 60_000 }]);
  assert.deepEqual(await sign(before), { principal: 'hmac', keyId: hmacKeyId(before), admin: true });
  assert.deepEqual(await sign(before, false), { principal: 'hmac', keyId: hmacKeyId(before), admin: true }, 'without an id, the key that verified is named');
  const rotation = await rotateHmacKey(stateDir, { overlapMs: 60_000 });
  assert.equal(readRetiring(paths.list).filter((k) => k.key.equals(before)).length, 1, 'listed once');
  assert.match(readFileSync(paths.key, 'utf8'), /^[0-9a-f]{64}$/, 'hmac.key as older versions read it');
  assert.equal(statSync(paths.key).mode & 0o777, 0o600);
  assert.equal(statSync(paths.list).mode & 0o777, 0o600);
  assert.deepEqual(await sign(rotation.current), { principal: 'hmac', keyId: hmacKeyId(rotation.current), admin: true }, 'the authenticator re-read the rotated files');
  assert.deepEqual(await sign(before), { principal: 'hmac', keyId: hmacKeyId(before), admin: true });

  // Concurrent rotations queue on the lock: each replaces the one before it, none is lost.
  const many = await Promise.all(Array.from({ length: 4 }, () => rotateHmacKey(stateDir, { overlapMs: 60_000 })));
  const listed = readRetiring(paths.list).map((k) => k.key.toString('hex'));
  const current = readFileSync(paths.key, 'utf8');
  assert.equal(many.filter((r) => r.current.toString('hex') === current).length, 1, 'one of them is current');
  for (const r of many) if (r.current.toString('hex') !== current) assert.ok(listed.includes(r.current.toString('hex')), 'the others overlap');
  assert.ok(!listed.includes(current));

  // Past the bound, the soonest to retire go first.
  for (let i = 0; i < MAX_RETIRING_KEYS; i++) await rotateHmacKey(stateDir, { overlapMs: 60_000 });
  const live = readRetiring(paths.list).filter((k) => k.retiresAt > Date.now());
  assert.equal(live.length, MAX_RETIRING_KEYS);
  await assert.rejects(sign(before), (e: unknown) => isBatonError(e, 'UNAUTHENTICATED') && new RegExp(`key ${hmacKeyId(before)} (was retired|is not one)`).test((e as Error).message));

  // A damaged list says so without quoting it (it holds keys).
  const { writeFileSync } = await import('node:fs');
  writeFileSync(paths.list, `{"version":1,"keys":[{"key":"${current}"`);
  await assert.rejects(sign(rotation.current), (e: unknown) => isBatonError(e, 'CORRUPT_FILE') && !(e as Error).message.includes(current));
  await assert.rejects(rotateHmacKey(stateDir, { overlapMs: -1 }), (e: unknown) => isBatonError(e, 'INVALID_ARGUMENT'));
});

test('rotate-key: bad --overlap is one line naming the value; the output names keys by id only', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  for (const bad of ['abc', '-1', '1y', '']) {
    const run = await startNode(cli, ['auth', 'rotate-key', '--overlap', bad, '--state-dir', stateDir]).done;
    assert.equal(run.code, 2, `--overlap ${JSON.stringify(bad)}: a usage error (${run.stderr})`);
    assert.ok(run.stderr.startsWith('baton: --overlap must be a duration >= 0'), run.stderr);
    assert.ok(run.stderr.includes(`got ${JSON.stringify(bad)}`), run.stderr);
    assert.match(run.stderr, /^[^\n]*\[INVALID_ARGUMENT\]\n$/, 'one line');
  }
  const made = await startNode(cli, ['auth', 'rotate-key', '--state-dir', stateDir]).done;
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^made the first HMAC key [0-9a-f]{8} in /);
  const first = keyFile(stateDir);
  const rotated = await startNode(cli, ['auth', 'rotate-key', '--state-dir', stateDir]).done;
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, new RegExp(`the current key is ${hmacKeyId(keyFile(stateDir))}\\nkey ${hmacKeyId(first)} verifies until \\S+ \\(in [^)]+\\), then is refused\\n$`));
  for (const key of [first, keyFile(stateDir)]) assert.ok(!rotated.stdout.includes(key.toString('hex')) && !rotated.stderr.includes(key.toString('hex')));
});

test('a dashboard session opened with a key ends when that key retires, and so does its open stream', async (t) => {
  const { stateDir, host, port } = await tcpDaemon(t);
  const target = { host, port };
  const key = keyFile(stateDir);
  const link = await send(target, 'POST', '/v1/ui/link', key);
  assert.equal(link.status, 200, link.body);
  const url = new URL((JSON.parse(link.body) as { url: string }).url);
  const signIn = await send({ host: url.hostname, port: Number(url.port) }, 'GET', `${url.pathname}${url.search}`, undefined);
  assert.equal(signIn.status, 303, signIn.body);
  const session = { cookie: String(signIn.headers['set-cookie']).split(';')[0]!, 'x-baton-session': /#session=(.+)$/.exec(String(signIn.headers.location))![1]! };
  assert.equal((await send(target, 'GET', '/v1/whoami', undefined, { extra: session })).status, 200);
  const stream = await new Promise<{ ended: Promise<void> }>((resolve, reject) => {
    const req = request({ ...target, method: 'GET', path: '/v1/events', headers: session }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
      res.resume();
      resolve({ ended: new Promise((ended) => res.once('end', () => ended())) });
    });
    req.on('error', reject);
    req.end();
  });
  // After a leak: the key is retired at once, and what it opened goes with it.
  await rotate(stateDir, '0');
  const after = await send(target, 'GET', '/v1/whoami', undefined, { extra: session });
  assert.equal(after.status, 401, after.body);
  const ended = await Promise.race([stream.ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  assert.ok(ended, 'the open stream ended with the key');
});
