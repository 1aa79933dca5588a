// Signed webhooks from the durable outbox, through a real daemon and a real
// loopback receiver that verifies every request with the `standardwebhooks`
// package (an implementation of the specification that is not ours).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { sleep, tempDir } from '../helpers/procs.ts';
import { killedWithDeliveriesInFlight, payloads, receiver, verify, webhookCli, type Added } from './webhooks-support.ts';

/** Retries 0.1 s apart, three of them: the schedule scaled down, as `baton serve --webhook-retries` allows. */
const FAST = ['--webhooks-allow-private', '--webhook-retries', '0.1,0.1,0.1'];

async function daemon(t: TestContext, args: string[] = FAST, stateDir = join(tempDir(t), 'state')): Promise<{ d: RunningDaemon; stateDir: string }> {
  const d = await startDaemon(stateDir, { args, cwd: dirname(stateDir) });
  t.after(() => d.stop());
  return { d, stateDir };
}

test('a receiver that fails twice gets the event a third time with the same webhook-id, each request signed per Standard Webhooks', async (t) => {
  const hook = await receiver(t, (n) => (n < 2 ? 500 : 204));
  const { d, stateDir } = await daemon(t);
  const added = (await webhookCli(stateDir, ['add', hook.url, '--event', 'task.added', '--allow-private'])) as Added;
  assert.match(added.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const task = await d.client().addTask({ title: 'ship it' });
  await d.client().publish({ type: 'build.finished' }); // not a task.added: not sent

  await hook.until((r) => r.some((x) => x.status === 204), 'the third attempt');
  assert.equal(hook.received.length, 3);
  const ids = new Set(hook.received.map((r) => r.headers['webhook-id']));
  assert.equal(ids.size, 1, 'every attempt carries the same webhook-id');
  assert.match([...ids][0] as string, /^msg_/);
  for (const r of hook.received) {
    const body = verify(added.secret, r) as { type: string; data: { key: string } };
    assert.equal(body.type, 'task.added');
    assert.equal(body.data.key, String(task.id));
  }
  // Tampered, it no longer verifies: the check above can fail.
  assert.throws(() => verify(added.secret, { ...hook.received[0]!, body: hook.received[0]!.body.replace('ship it', 'ship that') }));

  const [delivery] = (await webhookCli(stateDir, ['deliveries', added.endpoint.id])) as Array<{ id: string; status: string; attempts: number; outcomes: Array<{ status: number }> }>;
  assert.equal(delivery!.id, [...ids][0]);
  assert.equal(delivery!.status, 'delivered');
  assert.deepEqual(delivery!.outcomes.map((o) => o.status), [500, 500, 204]);
  const [endpoint] = (await webhookCli(stateDir, ['list'])) as Array<{ secretFingerprint: string; failingSince: number | null }>;
  assert.equal(endpoint!.failingSince, null, 'a success ends the failing streak');
  assert.ok(!JSON.stringify(endpoint).includes(added.secret.slice(6)), 'list never shows the secret');
});

test('rotation: during the overlap both secrets sign; after it, only the new one', async (t) => {
  const hook = await receiver(t);
  const { d, stateDir } = await daemon(t);
  const added = (await webhookCli(stateDir, ['add', hook.url, '--event', 'task.added', '--allow-private'])) as Added;
  const rotated = (await webhookCli(stateDir, ['rotate', added.endpoint.id, '--overlap', '1h'])) as Added & { endpoint: { previousSecretUntil: number | null } };
  assert.notEqual(rotated.secret, added.secret);
  assert.ok(rotated.endpoint.previousSecretUntil !== null);
  await d.client().addTask({ title: 'during' });
  await hook.until((r) => r.length === 1, 'the delivery during the overlap');
  const during = hook.received[0]!;
  assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2);
  verify(added.secret, during); // a receiver still holding the old secret
  verify(rotated.secret, during); // and one that has the new

  const again = (await webhookCli(stateDir, ['rotate', added.endpoint.id, '--overlap', '0'])) as Added;
  await d.client().addTask({ title: 'after' });
  await hook.until((r) => r.length === 2, 'the delivery after the overlap');
  const after = hook.received[1]!;
  assert.equal(String(after.headers['webhook-signature']).split(' ').length, 1);
  verify(again.secret, after);
  assert.throws(() => verify(rotated.secret, after), 'the replaced secret no longer signs');
});

test('an endpoint answering 410, or failing past its disable-after, is disabled (an event says so) and receives nothing more', async (t) => {
  const gone = await receiver(t, () => 410);
  const failing = await receiver(t, () => 503);
  const { d, stateDir } = await daemon(t, ['--webhooks-allow-private', '--webhook-retries', '0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1']);
  const a = (await webhookCli(stateDir, ['add', gone.url, '--event', 'task.', '--allow-private'])) as Added;
  const b = (await webhookCli(stateDir, ['add', failing.url, '--event', 'task.', '--allow-private', '--disable-after', '0.25s'])) as Added;
  await d.client().addTask({ title: 'one' });
  await gone.until((r) => r.length === 1, 'the 410');
  const c = d.client();
  const disabled = async (): Promise<Array<{ id: string; disabledReason: string | null }>> =>
    ((await webhookCli(stateDir, ['list'])) as Array<{ id: string; disabledAt: number | null; disabledReason: string | null }>).filter((e) => e.disabledAt !== null);
  for (let i = 0; (await disabled()).length < 2; i++) {
    assert.ok(i < 200, 'both endpoints disabled');
    await sleep(50);
  }
  const reasons = new Map((await disabled()).map((e) => [e.id, e.disabledReason]));
  assert.match(reasons.get(a.endpoint.id)!, /410/);
  assert.match(reasons.get(b.endpoint.id)!, /^failing since /);
  const events = await c.events({ types: ['webhook.disabled'] });
  assert.deepEqual(new Set(events.map((e) => e.key)), new Set([a.endpoint.id, b.endpoint.id]));
  assert.ok(!JSON.stringify(events).includes('whsec_'));

  const before = [gone.received.length, failing.received.length];
  await c.addTask({ title: 'two' });
  await sleep(1_500); // three worker turns and many retry waits: a delivery would have gone by now
  assert.deepEqual([gone.received.length, failing.received.length], before, 'a disabled endpoint receives nothing');
  const test = await webhookCli(stateDir, ['deliveries', b.endpoint.id]);
  assert.ok((test as Array<{ eventType: string }>).every((x) => x.eventType.startsWith('task.')));
});

test('killed (kill -9) with deliveries in flight, the daemon sends them after a restart, with the same webhook-ids', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const args = [...FAST, '--node-ttl', '0.5'];
  const first = await startDaemon(stateDir, { args, cwd: dirname(stateDir) });
  await killedWithDeliveriesInFlight(t, first, stateDir, async () => (await daemon(t, args, stateDir)).stateDir);
});

test('webhook test sends a webhook.test delivery to that endpoint only, now', async (t) => {
  const one = await receiver(t);
  const other = await receiver(t);
  const { stateDir } = await daemon(t);
  const added = (await webhookCli(stateDir, ['add', one.url, '--allow-private'])) as Added;
  await webhookCli(stateDir, ['add', other.url, '--event', 'webhook.', '--allow-private']);
  const delivery = (await webhookCli(stateDir, ['test', added.endpoint.id])) as { status: string; lastStatus: number; eventType: string };
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.lastStatus, 204);
  assert.equal(payloads(one.received).filter((p) => p.type === 'webhook.test').length, 1);
  verify(added.secret, one.received.find((r) => r.body.includes('webhook.test'))!);
  await sleep(600);
  assert.equal(payloads(other.received).filter((p) => p.type === 'webhook.test').length, 0);
});
