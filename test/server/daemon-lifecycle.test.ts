// The daemon in this process (startDaemon): the routes its caller gives are
// served and closed with it, and a start that fails unwinds what it made as a
// stop does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isBatonError } from '../../src/errors.ts';
import { statePaths } from '../../src/project/state-dir.ts';
import { startDaemon } from '../../src/server/daemon.ts';
import { socketPathFor } from '../../src/server/listeners.ts';
import type { OpenRoute } from '../../src/server/routes.ts';
import { tempDir } from '../helpers/procs.ts';

/** A route that answers with the daemon's version and records what happens to it. */
function recordingRoute(calls: string[]): OpenRoute {
  return (ctx) => ({
    async handle(req, res, body) {
      calls.push(`${req.method} ${body.toString()}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`version ${ctx.version}`);
    },
    async close() {
      calls.push('close');
    },
  });
}

function send(socketPath: string, method: string, path: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a route the caller gives is served at its path, and closed once when the daemon stops', async (t) => {
  const dir = tempDir(t, 'baton-daemon-routes-');
  const stateDir = join(dir, 'state');
  const calls: string[] = [];
  const daemon = await startDaemon({ stateDir, root: dir, version: '9.9.9', watch: false, routes: { '/v1/extra': recordingRoute(calls) } });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  assert.deepEqual(await send(socket, 'POST', '/v1/extra', 'abc'), { status: 200, text: 'version 9.9.9' });
  assert.equal((await send(socket, 'GET', '/v1/extra')).status, 200);
  assert.equal((await send(socket, 'GET', '/v1/health')).status, 200, 'the API is still there');
  assert.deepEqual(calls, ['POST abc', 'GET ']);

  await daemon.stop();
  await daemon.stop();
  await daemon.stopped;
  assert.deepEqual(calls, ['POST abc', 'GET ', 'close']);
  assert.ok(!existsSync(socket), 'the socket is removed');
  assert.ok(!existsSync(statePaths(stateDir).daemon), 'the record is removed');
  // The lock went with it: another daemon starts.
  const next = await startDaemon({ stateDir, root: dir, version: '9.9.9', watch: false });
  await next.stop();
});

test('a start that fails unwinds what it made, as a stop does: routes closed, socket gone, lock released', async (t) => {
  const dir = tempDir(t, 'baton-daemon-unwind-');
  const stateDir = join(dir, 'state');
  // The TCP port is taken, so the start fails after the unix socket listens.
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const calls: string[] = [];
  await assert.rejects(
    startDaemon({ stateDir, root: dir, version: '1', watch: false, listen: { host: '127.0.0.1', port }, routes: { '/v1/extra': recordingRoute(calls) } }),
    (error: unknown) => isBatonError(error, 'IO_ERROR') && /cannot listen/.test((error as Error).message),
  );
  assert.deepEqual(calls, ['close']);
  assert.ok(!existsSync(socketPathFor(stateDir)), 'the socket it listened on is removed');
  assert.ok(!existsSync(statePaths(stateDir).daemon), 'no record');
  const next = await startDaemon({ stateDir, root: dir, version: '1', watch: false });
  await next.stop();
});
