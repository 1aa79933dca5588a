// The daemon over real sockets: curl, the client SDK, a stock EventSource,
// bad input, overload, and authentication on TCP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { RemoteCoordinator, signRequest } from '../../src/client/index.ts';
import { operationNames } from '../../src/protocol/operations.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, start, tempDir } from '../helpers/procs.ts';

const run = promisify(execFile);

async function curl(socket: string, path: string, args: string[] = []): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', socket, ...args, `http://baton${path}`]);
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(target: { socketPath: string } | { host: string; port: number }, method: string, path: string, body = '', headers: Record<string, string> = {}, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, headers: { 'content-type': 'application/json', ...headers }, ...(agent ? { agent } : {}) }, async (res) => {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      resolve({ status: res.statusCode!, headers: res.headers, body: text });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes `text` on a fresh TCP connection and returns the first answer's head and how long it took, without finishing the request. */
function rawRequest(host: string, port: number, text: string): Promise<{ head: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port }, () => socket.write(text));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.includes('\r\n\r\n')) {
        resolve({ head: got.slice(0, got.indexOf('\r\n')), ms: Math.round(performance.now() - started) });
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      resolve({ head: `no answer in 10 s (got ${JSON.stringify(got)})`, ms: 10_000 });
    });
  });
}

test('curl drives the daemon over its unix socket; errors are 4xx with the engine codes', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  // Only this user may connect: the socket 0600 in a 0700 state directory.
  assert.equal(statSync(dirname(socket)).mode & 0o777, 0o700);
  assert.ok(statSync(socket).isSocket());
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  // Its structured log: a file of its own, one JSON object per line.
  const log = readFileSync(join(dir, 'state', 'logs', `daemon-${daemon.child.pid}.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { message: string; pid: number });
  assert.equal(log[0]!.pid, daemon.child.pid);
  assert.ok(log.some((l) => l.message === 'daemon started'), JSON.stringify(log));

  // A bad event query is a 400 before the stream opens, not a hang-up after its 200.
  const badTopic = await curl(socket, `/v1/events?topics=${'a'.repeat(300)}`);
  assert.equal(badTopic.status, 400, badTopic.body);
  assert.equal(JSON.parse(badTopic.body).error.code, 'INVALID_ARGUMENT');

  const health = await curl(socket, '/v1/health');
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).ok, true);

  const got = await curl(socket, '/v1/acquire', ['-X', 'POST', '-d', '{"key":"repo","owner":"curl"}']);
  assert.equal(got.status, 200, got.body);
  const lease = JSON.parse(got.body);
  assert.equal(lease.owner, 'curl');

  const locked = await curl(socket, '/v1/acquire', ['-X', 'POST', '-d', '{"key":"repo","owner":"other","timeoutMs":0}']);
  assert.equal(locked.status, 423);
  assert.equal(JSON.parse(locked.body).error.code, 'LOCKED');

  const malformed = await curl(socket, '/v1/acquire', ['-X', 'POST', '-d', '{"key":']);
  assert.equal(malformed.status, 400);
  assert.equal(JSON.parse(malformed.body).error.code, 'INVALID_ARGUMENT');

  const wrongType = await curl(socket, '/v1/acquire', ['-X', 'POST', '-d', '{"key":"x","owner":"a","ttlMs":"soon"}']);
  assert.equal(wrongType.status, 400);
  assert.match(JSON.parse(wrongType.body).error.message, /ttlMs must be a whole number, got "soon"/);

  const unknownField = await curl(socket, '/v1/acquire', ['-X', 'POST', '-d', '{"key":"x","owner":"a","tll":5}']);
  assert.equal(unknownField.status, 400);
  assert.match(JSON.parse(unknownField.body).error.message, /unknown field "tll"/);

  const huge = await http({ socketPath: socket }, 'POST', '/v1/publish', JSON.stringify({ type: 'big', data: { blob: 'x'.repeat(2 << 20) } }));
  assert.equal(huge.status, 413);
  assert.equal(JSON.parse(huge.body).error.code, 'PAYLOAD_TOO_LARGE');

  const nowhere = await curl(socket, '/v1/nothing-here', ['-X', 'POST', '-d', '{}']);
  assert.equal(nowhere.status, 404);
  assert.equal(JSON.parse(nowhere.body).error.code, 'NOT_FOUND');

  // None of the refused requests changed anything.
  const c = daemon.client();
  const held = await c.listLeases();
  assert.deepEqual(held.map((l) => [l.key, l.owner]), [['repo', 'curl']]);
  assert.equal((await c.events({ types: ['big'] })).length, 0);

  const doc = JSON.parse((await curl(socket, '/v1/openapi.json')).body);
  assert.equal(doc.openapi, '3.1.0');
  for (const name of operationNames) assert.ok(doc.paths[`/v1/${name}`]?.post, `openapi lists ${name}`);
  assert.ok(doc.paths['/v1/events'].get);
});

test('Idempotency-Key: a retried mutation acts once', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const add = () => curl(socket, '/v1/addTask', ['-X', 'POST', '-H', 'Idempotency-Key: add-1', '-d', '{"spec":{"title":"once"}}']);
  const first = JSON.parse((await add()).body);
  const second = JSON.parse((await add()).body);
  assert.equal(first.id, second.id);
  const other = await curl(socket, '/v1/addTask', ['-X', 'POST', '-H', 'Idempotency-Key: add-1', '-d', '{"spec":{"title":"different"}}']);
  assert.equal(other.status, 409);
  assert.equal(JSON.parse(other.body).error.code, 'IDEMPOTENCY_MISMATCH');
  assert.equal((await daemon.client().listTasks()).length, 1);
});

test('a flood past the write queue gets 429 with Retry-After; the daemon stays up and bounded', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir, args: ['--max-queue', '4'] });
  t.after(() => daemon.stop());
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  t.after(() => agent.destroy());
  const target = { socketPath: daemon.record.socket! };
  const answers = await Promise.all(
    Array.from({ length: 400 }, (_, i) => http(target, 'POST', '/v1/publish', JSON.stringify({ type: 'flood.item', data: { i } }), {}, agent)),
  );
  const ok = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => a.status === 429);
  assert.equal(ok + refused.length, 400, `only 200 and 429: ${[...new Set(answers.map((a) => a.status))]}`);
  assert.ok(refused.length > 0, 'some requests were refused');
  assert.ok(ok > 0, 'some requests were served');
  for (const r of refused) {
    assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After is set');
    assert.equal(JSON.parse(r.body).error.code, 'OVERLOADED');
  }
  const c = daemon.client();
  assert.equal((await c.events({ types: ['flood.'], limit: 10_000 })).length, ok, 'every 200 was written, no 429 was');
  const status = await c.status();
  assert.equal(status.daemon!.writer.queued, 0);
  assert.ok(status.daemon!.writer.largestBatch <= 4);
  // The client SDK retries 429 with backoff: the same flood through it all lands.
  await Promise.all(Array.from({ length: 200 }, (_, i) => c.publish({ type: 'sdk.item', data: { i } })));
  assert.equal((await c.events({ types: ['sdk.'], limit: 10_000 })).length, 200);
});

test('TCP: every request is authenticated by a token or an HMAC signature; failures are 401 and change nothing', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--no-socket'] });
  t.after(() => daemon.stop());
  const [host, port] = [daemon.record.listen!.split(':')[0]!, Number(daemon.record.listen!.split(':')[1])];
  const target = { host, port };
  const created = await baton(['auth', 'token', 'create', 'tester', '--json', '--state-dir', stateDir]);
  assert.equal(created.code, 0, created.stderr);
  const { token } = JSON.parse(created.stdout) as { token: string };

  const body = JSON.stringify({ key: 'k', owner: 'intruder', timeoutMs: 0 });
  const none = await http(target, 'POST', '/v1/acquire', body);
  assert.equal(none.status, 401);
  assert.equal(JSON.parse(none.body).error.code, 'UNAUTHENTICATED');
  const wrong = await http(target, 'POST', '/v1/acquire', body, { authorization: `Bearer ${token.slice(0, -2)}xx` });
  assert.equal(wrong.status, 401);
  // Refused on its headers: the daemon answers 401 without waiting for (or buffering) the body it announced.
  const early = await rawRequest(host, port, `POST /v1/acquire HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 900000\r\n\r\n{"key":`);
  assert.match(early.head, /^HTTP\/1\.1 401 /, early.head);
  assert.ok(early.ms < 2000, `401 after ${early.ms} ms: it waited for the body (request timeout 30 s)`);
  const secret = readFileSync(join(stateDir, 'hmac.key'), 'utf8');
  const stale = await rawRequest(host, port, `POST /v1/acquire HTTP/1.1\r\nhost: x\r\nx-baton-timestamp: 1000\r\nx-baton-signature: v1=${'a'.repeat(64)}\r\ncontent-length: 900000\r\n\r\n`);
  assert.match(stale.head, /^HTTP\/1\.1 401 /, 'a signature outside the replay window is refused before the body');
  const badSig = signRequest(secret, 'POST', '/v1/acquire', JSON.stringify({ key: 'k', owner: 'someone-else' }));
  assert.equal((await http(target, 'POST', '/v1/acquire', body, badSig)).status, 401, 'a signature over another body');

  const signed = signRequest(secret, 'POST', '/v1/acquire', JSON.stringify({ key: 'k2', owner: 'signed', timeoutMs: 0 }));
  const first = await http(target, 'POST', '/v1/acquire', JSON.stringify({ key: 'k2', owner: 'signed', timeoutMs: 0 }), signed);
  assert.equal(first.status, 200, first.body);
  const replay = await http(target, 'POST', '/v1/acquire', JSON.stringify({ key: 'k2', owner: 'signed', timeoutMs: 0 }), signed);
  assert.equal(replay.status, 401, 'a replayed signature is refused');

  const c = new RemoteCoordinator({ host, port, token });
  t.after(() => c.close());
  const leases = await c.listLeases();
  assert.deepEqual(leases.map((l) => l.key), ['k2'], 'nothing the refused requests asked for happened');
  const viaHmac = new RemoteCoordinator({ host, port, hmacSecret: secret });
  t.after(() => viaHmac.close());
  assert.equal((await viaHmac.getLease('k2')).holders.length, 1);

  // A stock EventSource (it cannot set headers: the token goes in the query) receives pushed events.
  const script = `
    const es = new EventSource(process.argv[1]);
    es.onmessage = (m) => { const e = JSON.parse(m.data); console.log('event ' + e.seq + ' ' + e.type); };
    es.onopen = () => console.log('open');
  `;
  const url = `http://${host}:${port}/v1/events?topics=demo.&access_token=${encodeURIComponent(token)}`;
  const es = start(process.execPath, ['--experimental-eventsource', '--no-warnings', '-e', script, url]);
  t.after(() => es.child.kill());
  await es.line('open');
  const published = await c.publish({ type: 'demo.hello', data: { n: 1 } });
  await c.publish({ type: 'other.skip' });
  await c.publish({ type: 'demo.bye' });
  await es.line('event ' + (published.seq + 2));
  assert.deepEqual(es.lines().filter((l) => l.startsWith('event')), [`event ${published.seq} demo.hello`, `event ${published.seq + 2} demo.bye`]);
});

test('baton serve --max-body, --max-connections and --request-timeout set the limits; bad values are usage errors', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir, args: ['--max-body', '2048', '--max-connections', '8', '--request-timeout', '0.5'] });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const big = await http({ socketPath: socket }, 'POST', '/v1/publish', JSON.stringify({ type: 'big', data: { blob: 'x'.repeat(3000) } }));
  assert.equal(big.status, 413);
  const small = await http({ socketPath: socket }, 'POST', '/v1/publish', JSON.stringify({ type: 'small', data: { blob: 'x'.repeat(1000) } }));
  assert.equal(small.status, 200, small.body);
  const status = await daemon.client().status();
  assert.deepEqual(status.daemon!.limits, { maxBodyBytes: 2048, maxConnections: 8, requestTimeoutMs: 500 });
  assert.equal(status.daemon!.durability, 'normal');
  // A request that never arrives whole is cut off after the request timeout, not 30 s later.
  const { createConnection } = await import('node:net');
  const started = performance.now();
  const answer = await new Promise<string>((resolve) => {
    const s = createConnection(socket, () => s.write('POST /v1/publish HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"type":'));
    let got = '';
    s.on('data', (d) => (got += String(d)));
    s.on('close', () => resolve(got));
  });
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.ok(performance.now() - started >= 400 && performance.now() - started < 5_000, `cut off after ${performance.now() - started} ms`);
  for (const [flag, value] of [['--max-body', '10'], ['--max-connections', 'many'], ['--request-timeout', '0']]) {
    const bad = await baton(['serve', flag!, value!, '--state-dir', join(dir, 'other')], { cwd: dir });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, new RegExp(`${flag}.*${JSON.stringify(value)}`));
  }
  const contradictory = await baton(['serve', '--detach', '--foreground', '--state-dir', join(dir, 'other')], { cwd: dir });
  assert.equal(contradictory.code, 2);
  assert.match(contradictory.stderr, /--detach and --foreground/);
});

test('--max-connections: connections past the limit are closed unanswered; once one closes, a new one is served', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir, args: ['--max-connections', '4'] });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const { createConnection } = await import('node:net');
  /** A keep-alive connection that asks for /v1/health: its answer's status line, or 'closed' if the daemon hung up first. */
  const open = () => {
    const s = createConnection(socket);
    const answer = new Promise<string>((resolve) => {
      let got = '';
      s.on('data', (d) => {
        got += String(d);
        if (got.includes('\r\n')) resolve(got.slice(0, got.indexOf('\r\n')));
      });
      s.on('close', () => resolve(got === '' ? 'closed' : got));
      s.on('error', () => undefined);
    });
    s.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n');
    return { s, answer };
  };
  const held = [open(), open(), open(), open()];
  for (const h of held) assert.equal(await h.answer, 'HTTP/1.1 200 OK');
  const extra = open();
  assert.equal(await extra.answer, 'closed', 'a fifth connection is refused');
  held[0]!.s.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const again = open();
  assert.equal(await again.answer, 'HTTP/1.1 200 OK', 'a freed place is taken');
  for (const h of [...held, again]) h.s.destroy();
});

test('client: a daemon that stops answering (SIGSTOP) fails a request after requestTimeoutMs with UNAVAILABLE; an acquire gets its wait on top', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(async () => {
    daemon.child.kill('SIGCONT');
    await daemon.stop();
  });
  const c = daemon.client({ requestTimeoutMs: 300, retryForMs: 0 });
  await c.getLease('warm');
  daemon.child.kill('SIGSTOP');
  let started = performance.now();
  await assert.rejects(c.getLease('k'), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, /no answer from the daemon within 300 ms/);
    return true;
  });
  const plain = performance.now() - started;
  assert.ok(plain >= 290 && plain < 2_000, `gave up after ${plain} ms`);
  started = performance.now();
  const ask = { owner: 'me', timeoutMs: 500, idempotencyKey: 'acquire-k-1' };
  await assert.rejects(c.acquire('k', ask), /no answer from the daemon within 800 ms/);
  const waited = performance.now() - started;
  assert.ok(waited >= 790 && waited < 3_000, `an acquire with timeoutMs 500 gave up after ${waited} ms`);
  daemon.child.kill('SIGCONT');
  // The outcome of a timed-out call is unknown (here the request sat in the stopped daemon's socket
  // and was carried out on SIGCONT): the same idempotency key tells, and acts once.
  const lease = await c.acquire('k', ask);
  assert.deepEqual((await c.getLease('k')).holders.map((h) => h.token), [lease.token], 'one hold, whichever attempt made it');
  assert.deepEqual((await c.acquire('k', ask)).token, lease.token);
});
