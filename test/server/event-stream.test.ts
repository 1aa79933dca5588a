// Event streams "from now" that drop before their first event: the daemon
// first sends an id-only block with its last seq, so both our SDK and a stock
// EventSource resume from there and lose nothing published while they were away.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { BatonEvent } from '../../src/coordinator.ts';
import { openCoordinator as openEmbedded } from '../../src/engine/open.ts';
import { statePaths } from '../../src/project/state-dir.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { freePort } from '../../support/free-port.ts';
import { baton, sleep, start, tempDir } from '../helpers/procs.ts';

type Block = Record<string, string[]>;

/** A stock-style reader: GET /v1/events, the raw SSE blocks as they arrive. */
function rawStream(socketPath: string, path: string, headers: Record<string, string> = {}) {
  const blocks: Block[] = [];
  const waiters: Array<() => void> = [];
  const req = request({ socketPath, path, headers: { accept: 'text/event-stream', ...headers } });
  req.on('response', (res) => {
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block: Block = {};
        for (const line of buffer.slice(0, end).split('\n')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          (block[field] ??= []).push(colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, ''));
        }
        buffer = buffer.slice(end + 2);
        blocks.push(block);
        for (const wake of waiters.splice(0)) wake();
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    blocks,
    /** Waits until `count` blocks (keep-alive comments excluded) have arrived. */
    async take(count: number): Promise<Block[]> {
      const until = performance.now() + 10_000;
      const real = (): Block[] => blocks.filter((b) => !('' in b && Object.keys(b).length === 1));
      while (real().length < count) {
        if (performance.now() > until) throw new Error(`only ${real().length} of ${count} blocks: ${JSON.stringify(blocks)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return real().slice(0, count);
    },
    close: () => req.destroy(),
  };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Publishes with the embedded store on the daemon's database while no daemon runs. */
async function publishWhileDown(stateDir: string, types: string[]): Promise<void> {
  const c = await openEmbedded({ url: `sqlite:${statePaths(stateDir).database}` });
  try {
    for (const type of types) await c.publish({ type });
  } finally {
    await c.close();
  }
}

test('a stream from now starts with an id-only block carrying the last seq; Last-Event-ID and after are unchanged', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const c = daemon.client();
  const first = await c.publish({ type: 'demo.one' });
  const last = await c.publish({ type: 'demo.two' });

  const fresh = rawStream(socket, '/v1/events?topics=demo.');
  t.after(() => fresh.close());
  const [retry, mark] = await fresh.take(2);
  assert.deepEqual(retry, { retry: ['1000'] });
  assert.deepEqual(mark, { id: [String(last.seq)] }, 'an id field and nothing else: no event is dispatched');
  const next = await c.publish({ type: 'demo.three' });
  const [, , event] = await fresh.take(3);
  assert.deepEqual(event!.id, [String(next.seq)]);
  assert.equal((JSON.parse(event!.data![0]!) as BatonEvent).type, 'demo.three');

  // A resume states its own start: replay from there, no id-only block.
  const resumed = rawStream(socket, '/v1/events?topics=demo.', { 'last-event-id': String(first.seq) });
  t.after(() => resumed.close());
  const replay = (await resumed.take(3)).slice(1);
  assert.deepEqual(replay.map((b) => b.id), [[String(last.seq)], [String(next.seq)]]);
  assert.ok(replay.every((b) => b.data !== undefined));
  const after = rawStream(socket, `/v1/events?topics=demo.&after=${last.seq}`);
  t.after(() => after.close());
  const fromAfter = (await after.take(2)).slice(1);
  assert.deepEqual(fromAfter.map((b) => b.id), [[String(next.seq)]]);
});

test('SDK: a subscription from now dropped before its first event loses nothing across a daemon kill -9 and restart', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  let daemon: RunningDaemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  const socketPath = daemon.record.socket!;
  const probe = new RemoteCoordinator({ socketPath, retryForMs: 15_000 });
  t.after(() => probe.close());
  await probe.publish({ type: 'gap.before' }); // older than the subscription: never delivered
  const baseline = (await probe.status()).daemon!.connections;

  const subscriber = new RemoteCoordinator({ socketPath });
  t.after(() => subscriber.close());
  const got: BatonEvent[] = [];
  const subscription = subscriber.subscribe((event) => got.push(event), { types: ['gap.'] });
  t.after(() => subscription.close());
  await waitFor('the stream to connect', async () => (await probe.status()).daemon!.connections > baseline);
  await sleep(500); // the id-only block follows the headers at once (a read of the last seq)

  await daemon.kill();
  await publishWhileDown(stateDir, ['gap.down1', 'other.skip', 'gap.down2']);
  daemon = await startDaemon(stateDir, { cwd: dir });
  await probe.publish({ type: 'gap.up1' });
  await probe.publish({ type: 'gap.up2' });

  const expected = ['gap.down1', 'gap.down2', 'gap.up1', 'gap.up2'];
  await waitFor(`${expected.length} events (got ${got.length})`, () => got.length >= expected.length);
  await sleep(300); // a duplicate would arrive about now
  assert.deepEqual(got.map((e) => e.type), expected, 'every event once, in order');
  assert.ok(got.every((e, i) => i === 0 || e.seq > got[i - 1]!.seq));
});

test('SDK: after -1 means from now, as in the engine; a malformed after is refused at once', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const c = daemon.client();
  await c.publish({ type: 'now.old' });
  const baseline = (await c.status()).daemon!.connections;
  const got: string[] = [];
  const subscription = c.subscribe((event) => got.push(event.type), { after: -1, types: ['now.'] });
  t.after(() => subscription.close());
  await waitFor('the stream to connect', async () => (await c.status()).daemon!.connections > baseline);
  await sleep(500); // the stream's start is fixed right after the connection
  await c.publish({ type: 'now.new' });
  await waitFor('the event', () => got.length > 0, 5_000);
  assert.deepEqual(got, ['now.new']);
  assert.throws(() => c.subscribe(() => undefined, { after: 1.5 }), { code: 'INVALID_ARGUMENT' });
});

test('a stock EventSource from now resumes after a daemon kill -9 and restart without losing events', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const port = await freePort();
  const args = ['--listen', `127.0.0.1:${port}`];
  let daemon: RunningDaemon = await startDaemon(stateDir, { cwd: dir, args });
  t.after(() => daemon.stop());
  const created = await baton(['auth', 'token', 'create', 'watcher', '--json', '--state-dir', stateDir]);
  assert.equal(created.code, 0, created.stderr);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const c = new RemoteCoordinator({ socketPath: daemon.record.socket!, retryForMs: 15_000 });
  t.after(() => c.close());
  await c.publish({ type: 'demo.before' });

  const script = `
    const es = new EventSource(process.argv[1]);
    es.onmessage = (m) => console.log('event ' + m.lastEventId + ' ' + JSON.parse(m.data).type);
    es.onopen = () => console.log('open');
    setInterval(() => undefined, 1000); // its reconnect timer alone does not keep the process alive
  `;
  const url = `http://127.0.0.1:${port}/v1/events?topics=demo.&access_token=${encodeURIComponent(token)}`;
  const es = start(process.execPath, ['--experimental-eventsource', '--no-warnings', '-e', script, url]);
  t.after(() => es.child.kill());
  await es.line('open');
  await sleep(100);

  await daemon.kill();
  await publishWhileDown(stateDir, ['demo.down1', 'demo.down2']);
  daemon = await startDaemon(stateDir, { cwd: dir, args });
  const up = await c.publish({ type: 'demo.up' });
  await es.line(`event ${up.seq} `, 15_000);
  await sleep(300);
  const events = es.lines().filter((l) => l.startsWith('event ')).map((l) => l.split(' ')[2]);
  assert.deepEqual(events, ['demo.down1', 'demo.down2', 'demo.up']);
});
