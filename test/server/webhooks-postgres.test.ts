// Webhooks on the PostgreSQL store: the outbox survives a kill -9 of the
// daemon that was sending (another daemon, started afterwards, sends what was
// in flight once the dead one's node lapses), and two daemons sharing the
// database never both send one delivery.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { killedWithDeliveriesInFlight, receiver, webhookCli } from './webhooks-support.ts';

const postgres = postgresPerFile('baton-pg-webhooks-');
let n = 0;
const ARGS = ['--webhooks-allow-private', '--webhook-retries', '0.1,0.1,0.1', '--node-ttl', '0.5'];

async function daemonOn(t: TestContext, url: string): Promise<{ d: RunningDaemon; stateDir: string }> {
  const stateDir = join(postgres.dir, `state-${n++}`);
  const d = await startDaemon(stateDir, { cwd: postgres.dir, args: ['--store', url, ...ARGS] });
  t.after(() => d.stop());
  return { d, stateDir };
}

test('postgres: killed (kill -9) with deliveries in flight, they are sent after a restart, same webhook-ids', async (t) => {
  const url = await postgres.databases.fresh();
  const stateDir = join(postgres.dir, `state-${n++}`);
  const first = await startDaemon(stateDir, { cwd: postgres.dir, args: ['--store', url, ...ARGS] });
  // Another daemon, another state directory: only the database is shared.
  await killedWithDeliveriesInFlight(t, first, stateDir, async () => (await daemonOn(t, url)).stateDir);
});

test('postgres: two daemons over one database send each delivery once', async (t) => {
  const url = await postgres.databases.fresh();
  const hook = await receiver(t, () => 200);
  const [a, b] = [await daemonOn(t, url), await daemonOn(t, url)];
  await webhookCli(a.stateDir, ['add', hook.url, '--event', 'task.added', '--allow-private']);
  const count = 40;
  await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 === 0 ? a : b).d.client().addTask({ title: `t${i}` })));
  await hook.until((r) => r.length >= count, `${count} deliveries`);
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // a second send of any would arrive within this
  const ids = hook.received.map((r) => r.headers['webhook-id']);
  assert.equal(new Set(ids).size, count);
  assert.equal(ids.length, count, 'no delivery sent twice');
  const rows = (await webhookCli(b.stateDir, ['deliveries'])) as Array<{ status: string; attempts: number }>;
  assert.equal(rows.length, count);
  assert.ok(rows.every((r) => r.status === 'delivered' && r.attempts === 1));
});
