// An agent on the daemon's /v1/mcp (MCP streamable HTTP) that goes away gives
// its reservations back within seconds, and one whose connection is merely cut
// keeps them: the official SDK client against a real daemon, through a TCP
// relay of the test's own that can cut connections as a flaky network would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { sleep, tempDir } from '../helpers/procs.ts';

/** A TCP relay to the daemon; cut() drops every connection through it at once. */
async function relay(t: TestContext, target: string): Promise<{ url: URL; cut(): void }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host, port });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of open) s.destroy();
    server.close();
  });
  const address = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${address.port}/v1/mcp`), cut: () => { for (const s of open) s.destroy(); } };
}

async function remoteProject(t: TestContext): Promise<{ daemon: RunningDaemon; token: string }> {
  const root = tempDir(t, 'baton-mcp-close-');
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const { token } = await createToken(stateDir, 'remote-agent');
  const daemon = await startDaemon(stateDir, { cwd: root, args: ['--listen', '127.0.0.1:0'] });
  t.after(() => daemon.stop());
  return { daemon, token };
}

async function connectAgent(url: URL, token: string, name: string): Promise<{ client: Client; reserve(path: string): Promise<void> }> {
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return {
    client,
    async reserve(path) {
      const result = await client.callTool({ name: 'reserve_paths', arguments: { paths: [path], reason: name } });
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
    },
  };
}

test('an HTTP MCP agent that closes its SDK client (no DELETE) has its reservations released about 2 s later', { timeout: 30_000 }, async (t) => {
  const { daemon, token } = await remoteProject(t);
  const admin = daemon.client();
  const agent = await connectAgent(new URL(`http://${daemon.record.listen}/v1/mcp`), token, 'closer');
  await agent.reserve('src/**');
  // The SDK opens its standalone event stream (GET) after initialize; give it a moment to be there.
  await sleep(300);
  assert.equal((await admin.listLeases({ prefix: 'path:' })).length, 1);
  const closed = performance.now();
  await agent.client.close();
  let released: number | undefined;
  while (performance.now() - closed < 10_000) {
    if ((await admin.listLeases({ prefix: 'path:' })).length === 0) {
      released = performance.now() - closed;
      break;
    }
    await sleep(50);
  }
  assert.ok(released !== undefined, 'the reservation was released');
  t.diagnostic(`released ${Math.round(released)} ms after client.close()`);
  // The grace is 2 s; the rest is slack for a loaded machine.
  assert.ok(released < 3_500, `released ${Math.round(released)} ms after close; the grace is 2 s`);
  const ended = (await admin.listSessions({ includeEnded: true })).find((s) => s.kind === 'mcp');
  assert.match(ended?.endReason ?? '', /disconnected/);
});

test('a cut connection is not a disconnect: the SDK reopens its stream and the agent keeps its reservations and session', { timeout: 30_000 }, async (t) => {
  const { daemon, token } = await remoteProject(t);
  const admin = daemon.client();
  const network = await relay(t, daemon.record.listen!);
  const agent = await connectAgent(network.url, token, 'flaky');
  t.after(() => agent.client.close());
  await agent.reserve('lib/**');
  await sleep(300);
  const [session] = (await admin.listSessions()).filter((s) => s.kind === 'mcp');
  network.cut();
  // Past the grace: the SDK reconnected its stream after 1 s, so nothing was released.
  await sleep(3_500);
  assert.equal((await admin.listLeases({ prefix: 'path:' })).length, 1, 'the reservation survived the cut');
  const result = await agent.client.callTool({ name: 'list_reservations', arguments: { mine: true } });
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  assert.equal(((result.structuredContent as { reservations: unknown[] }).reservations).length, 1, 'still the same agent, holding it');
  assert.deepEqual((await admin.listSessions()).filter((s) => s.kind === 'mcp').map((s) => s.id), [session!.id], 'the same baton session');
  // And when it does close, it goes.
  await agent.client.close();
  const deadline = performance.now() + 5_000;
  while ((await admin.listLeases({ prefix: 'path:' })).length > 0) {
    assert.ok(performance.now() < deadline, 'released after the close');
    await sleep(50);
  }
});
