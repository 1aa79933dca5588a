// GET /livez and /readyz, as a load balancer or an orchestrator probes them:
// `ok` without credentials; `?verbose` lists the checks (on TCP only with
// credentials, since a failure names files and hosts); readiness is 503
// while the daemon drains (with --drain-grace, while it still serves) and
// while the store cannot be written, and comes back; `baton status` shows
// the same checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon } from '../../support/daemon.ts';
import { adminQuery, postgresPerFile } from '../../support/postgres.ts';
import { baton, sleep, tempDir } from '../helpers/procs.ts';

const postgres = postgresPerFile('baton-health-');

type Where = { socketPath: string } | { host: string; port: number };

function get(where: Where, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method, path, headers: { host: 'baton', ...headers } }, async (res) => {
      let body = '';
      for await (const chunk of res) body += String(chunk);
      resolve({ status: res.statusCode!, body });
    });
    req.on('error', reject);
    req.end();
  });
}

test('livez and readyz: ok for a probe, the checks with ?verbose, credentials for the reasons on TCP; status shows them', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, '.baton');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0'] });
  t.after(() => daemon.stop());
  const socket = { socketPath: daemon.record.socket! };
  const [host, port] = daemon.record.listen!.split(':') as [string, string];
  const tcp = { host, port: Number(port) };
  assert.deepEqual(await get(socket, '/livez'), { status: 200, body: 'ok\n' });
  assert.deepEqual(await get(socket, '/readyz'), { status: 200, body: 'ok\n' });
  const verbose = await get(socket, '/readyz?verbose');
  assert.equal(verbose.status, 200);
  assert.match(verbose.body, /^\[\+\]draining ok\n\[\+\]store ok\n\[\+\]writer ok\nreadyz check passed\n$/);
  assert.match((await get(socket, '/livez?verbose')).body, /^\[\+\]ping ok\nlivez check passed\n$/);
  for (const path of ['/livez', '/readyz']) assert.equal((await get(socket, path, {}, 'POST')).status, 405, `POST ${path}: a known route, the wrong method`);
  // TCP: a probe needs nothing; the reasons need a token.
  assert.deepEqual(await get(tcp, '/readyz'), { status: 200, body: 'ok\n' });
  assert.equal((await get(tcp, '/readyz?verbose')).status, 401);
  const { token } = await createToken(stateDir, 'probe', { scopes: ['read'] });
  assert.match((await get(tcp, '/readyz?verbose', { authorization: `Bearer ${token}` })).body, /readyz check passed/);
  const status = await baton(['status', '--state-dir', stateDir], { env: { BATON_NO_DAEMON: '' }, cwd: dir });
  assert.match(status.stdout, /ready \(draining, store, writer ok\)/);
});

test('readiness is 503 while the daemon drains (--drain-grace), still serving, then it stops', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir, args: ['--drain-grace', '3'] });
  const socket = { socketPath: daemon.record.socket! };
  assert.equal((await get(socket, '/readyz')).status, 200);
  daemon.child.kill('SIGTERM');
  let seen: { status: number; body: string } | undefined;
  for (let i = 0; i < 100 && seen === undefined; i++) {
    const answer = await get(socket, '/readyz?verbose');
    if (answer.status === 503) seen = answer;
    else await sleep(20);
  }
  assert.ok(seen !== undefined, 'readiness went to 503 after SIGTERM');
  assert.match(seen.body, /\[-\]draining failed: the daemon is stopping/);
  assert.match(seen.body, /readyz check failed\n$/);
  assert.equal((await get(socket, '/livez')).status, 200, 'alive while it drains');
  const client = daemon.client();
  assert.deepEqual(await client.listLeases(), [], 'and still serving within the grace');
  await client.close();
  const code = await new Promise<number | null>((resolve) => daemon.child.once('exit', (c) => resolve(c)));
  assert.equal(code, 0);
});

test('readiness is 503 while the store cannot be written (PostgreSQL read-only), and comes back', async (t) => {
  const dir = tempDir(t);
  const url = await postgres.databases.fresh();
  const database = new URL(url).pathname.slice(1);
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir, args: ['--store', url, '--node-ttl', '0.9'] });
  t.after(() => daemon.stop());
  const socket = { socketPath: daemon.record.socket! };
  const until = async (status: number): Promise<{ status: number; body: string }> => {
    let last = await get(socket, '/readyz?verbose');
    for (let i = 0; i < 300 && last.status !== status; i++) {
      await sleep(50);
      last = await get(socket, '/readyz?verbose');
    }
    return last;
  };
  assert.equal((await until(200)).status, 200);
  // Every new session of the database is read-only, and the daemon's connections are made anew.
  const reconnect = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`;
  await adminQuery(postgres.server, `ALTER DATABASE ${database} SET default_transaction_read_only = on`);
  let down: { status: number; body: string };
  try {
    await adminQuery(postgres.server, reconnect);
    down = await until(503);
  } finally {
    // Writable again whatever happened, so the daemon can stop.
    await adminQuery(postgres.server, `ALTER DATABASE ${database} SET default_transaction_read_only = off`);
    await adminQuery(postgres.server, reconnect);
  }
  assert.equal(down.status, 503, down.body);
  // Seen as the failed write, or first as no write succeeding in time (the pool reconnects and retries meanwhile).
  assert.match(down.body, /\[-\]store failed: (the last write failed: .*read-only|no write has succeeded for)/);
  const up = await until(200);
  assert.equal(up.status, 200, up.body);
});
