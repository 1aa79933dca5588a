// Request heads Node's parser refuses, sent as raw bytes over real sockets (a
// stock client would never send them): each gets the daemon's JSON error with
// a code and the right status, on the unix socket and on TCP (where nothing
// reaches authentication), the connection is closed, and the daemon serves on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type NetConnectOpts } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator, signRequest } from '../../src/client/index.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

interface Answer {
  /** Everything the daemon sent before it closed the connection. */
  raw: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `bytes` on a fresh connection and reads until the daemon closes it (a write cut short by its close is expected). */
function exchange(target: NetConnectOpts, bytes: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(target, () => socket.write(bytes, () => undefined));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the daemon has closed
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the daemon kept the connection open; it sent ${JSON.stringify(Buffer.concat(chunks).toString())}`));
    }, 10_000);
    socket.on('close', () => {
      clearTimeout(guard);
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ raw, status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? 0), headers, body: split === -1 ? '' : raw.slice(split + 4) });
    });
  });
}

interface Case {
  name: string;
  bytes: string;
  status: number;
  code: string;
  /** A body error, found once the request has gone on to TCP's credential check: that check's 401 may come first, and is answer enough. */
  body?: true;
  /** What the message must say, in words a client can act on. */
  says: RegExp;
}

const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
const post = (...headers: string[]): string => head(['POST /v1/publish HTTP/1.1', 'Host: baton', ...headers]);

const cases: Case[] = [
  { name: 'a Content-Length that is not a number', bytes: post('Content-Length: ten'), status: 400, code: 'INVALID_ARGUMENT', says: /Content-Length/ },
  { name: 'a negative Content-Length', bytes: post('Content-Length: -1'), status: 400, code: 'INVALID_ARGUMENT', says: /Content-Length/ },
  { name: 'two Content-Length headers', bytes: `${post('Content-Length: 2', 'Content-Length: 3')}{}`, status: 400, code: 'INVALID_ARGUMENT', says: /more than one Content-Length/ },
  { name: 'Transfer-Encoding with Content-Length', bytes: `${post('Transfer-Encoding: chunked', 'Content-Length: 2')}0\r\n\r\n`, status: 400, code: 'INVALID_ARGUMENT', says: /both Content-Length and Transfer-Encoding/ },
  { name: 'a Transfer-Encoding other than chunked', bytes: post('Transfer-Encoding: gzip'), status: 400, code: 'INVALID_ARGUMENT', says: /Transfer-Encoding/ },
  { name: 'a control character in a header value', bytes: head(['GET /v1/health HTTP/1.1', 'Host: baton', 'X-Note: a\u0001b']), status: 400, code: 'INVALID_ARGUMENT', says: /header value/ },
  { name: 'a NUL in a header value', bytes: head(['GET /v1/health HTTP/1.1', 'Host: baton', 'X-Note: a\u0000b']), status: 400, code: 'INVALID_ARGUMENT', says: /header value/ },
  { name: 'a space in a header name', bytes: head(['GET /v1/health HTTP/1.1', 'Host: baton', 'X Note: a']), status: 400, code: 'INVALID_ARGUMENT', says: /header name/ },
  { name: 'a malformed chunked body', bytes: `${post('Transfer-Encoding: chunked')}zz\r\n`, status: 400, code: 'INVALID_ARGUMENT', says: /chunk/, body: true },
  { name: 'an unknown method token', bytes: head(['G(T /v1/health HTTP/1.1', 'Host: baton']), status: 400, code: 'INVALID_ARGUMENT', says: /method/ },
  { name: 'a version that is not HTTP/1.x', bytes: head(['GET /v1/health HTTP/9.1', 'Host: baton']), status: 400, code: 'INVALID_ARGUMENT', says: /HTTP\/1\.1/ },
  { name: 'bare LF line ends', bytes: 'GET /v1/health HTTP/1.1\nHost: baton\n\n', status: 400, code: 'INVALID_ARGUMENT', says: /CRLF/ },
  { name: 'a TLS handshake', bytes: '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003', status: 400, code: 'INVALID_ARGUMENT', says: /plain HTTP\/1\.1/ },
  { name: 'the HTTP/2 preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400, code: 'INVALID_ARGUMENT', says: /HTTP\/2/ },
  { name: 'an HTTP/1.1 request without Host', bytes: head(['GET /v1/health HTTP/1.1']), status: 400, code: 'INVALID_ARGUMENT', says: /Host header/ },
  { name: 'a head larger than the limit', bytes: head(['GET /v1/health HTTP/1.1', 'Host: baton', `X-Big: ${'a'.repeat(20_000)}`]), status: 431, code: 'PAYLOAD_TOO_LARGE', says: /16384 bytes/ },
  { name: 'an expectation other than 100-continue', bytes: head(['GET /v1/health HTTP/1.1', 'Host: baton', 'Expect: the-moon']), status: 417, code: 'INVALID_ARGUMENT', says: /100-continue/ },
  { name: 'CONNECT', bytes: head(['CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443']), status: 405, code: 'INVALID_ARGUMENT', says: /CONNECT/ },
  { name: 'a head that never ends', bytes: 'GET /v1/health HTTP/1.1\r\nHost: baton\r\n', status: 408, code: 'ABORTED', says: /within 1000 ms/ },
];

test('malformed request heads get a JSON error with a code and the right status, on the unix socket and on TCP; the daemon serves on', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--request-timeout', '1'] });
  t.after(() => daemon.stop());
  const [host = '', port = ''] = daemon.record.listen!.split(':');
  const targets: Record<string, NetConnectOpts> = { unix: { path: daemon.record.socket! }, tcp: { host, port: Number(port) } };

  for (const [transport, target] of Object.entries(targets)) {
    for (const c of cases) {
      const answer = await exchange(target, c.bytes);
      const what = `${transport}, ${c.name}: ${JSON.stringify(answer.raw)}`;
      if (c.body && transport === 'tcp' && answer.status === 401) continue;
      assert.equal(answer.status, c.status, what);
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/, what);
      assert.equal(answer.headers.connection, 'close', what);
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body), what);
      const body = JSON.parse(answer.body) as { error: { code: string; message: string; details?: Record<string, unknown> } };
      assert.equal(body.error.code, c.code, what);
      assert.match(body.error.message, c.says, what);
      assert.ok(!/^Parse Error|^HPE_/.test(body.error.message), `the message is in words, not the parser's: ${what}`);
      if (c.status === 405) assert.equal(answer.headers.allow, 'GET, POST, DELETE', what);
    }
  }

  // A malformed request pipelined behind valid ones is refused after their answers, in order (sent
  // sooner, the refusal would be read as theirs), even behind one that waits.
  const local = daemon.client();
  const held = await local.acquire('pipelined', { owner: 'holder' });
  const wait = JSON.stringify({ key: 'pipelined', owner: 'waiter', timeoutMs: 300 });
  const pipelined = await exchange(
    targets.unix!,
    head(['GET /v1/health HTTP/1.1', 'Host: baton']) +
      head(['POST /v1/acquire HTTP/1.1', 'Host: baton', `Content-Length: ${wait.length}`]) + wait +
      head(['POST /v1/health HTTP/1.1', 'Host: baton', 'Content-Length: 0']) +
      head(['GET /v1/health HTTP/1.1', 'Host: baton', 'X-Note: \u0001']),
  );
  assert.deepEqual(pipelined.raw.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 200', 'HTTP/1.1 423', 'HTTP/1.1 405', 'HTTP/1.1 400'], JSON.stringify(pipelined.raw));
  assert.match(pipelined.raw, /"code":"INVALID_ARGUMENT","message":"a header value/);
  await local.release(held);

  // A peer that resets mid-head is not answered and not logged as a failure.
  await new Promise<void>((resolve) => {
    const s = connect(targets.tcp!, () => {
      s.write('GET /v1/health HTTP/1.1\r\nHost: ba');
      s.resetAndDestroy();
      resolve();
    });
  });

  // Still serving on both listeners.
  assert.equal((await local.status()).daemon!.pid, daemon.record.pid);
  const health = await exchange(targets.unix!, head(['GET /v1/health HTTP/1.1', 'Host: baton', 'Connection: close']));
  assert.equal(health.status, 200, health.raw);
  const secret = readFileSync(join(stateDir, 'hmac.key'), 'utf8');
  const remote = new RemoteCoordinator({ host, port: Number(port), hmacSecret: secret });
  t.after(() => remote.close());
  assert.equal((await remote.status()).daemon!.pid, daemon.record.pid);
  const tcpHealth = await new Promise<number>((resolve, reject) => {
    const req = request({ host, port: Number(port), path: '/v1/health', headers: signRequest(secret, 'GET', '/v1/health', '') }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(tcpHealth, 200);
  assert.doesNotMatch(readFileSync(join(stateDir, 'logs', `daemon-${daemon.record.pid}.log`), 'utf8'), /"level":"error"/, 'no malformed head is logged as a failure');
});
