// Approvals through a real daemon (docs/approvals.md): who may decide (a
// token with the approver scope, or the local user on the unix socket; a
// `tasks` token is refused with 403 PERMISSION_DENIED), and a decision reaches
// a real webhook receiver, verified with the `standardwebhooks` package.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError } from '../../src/errors.ts';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';
import { payloads, receiver, verify, webhookCli, type Added } from './webhooks-support.ts';

/** A git repository served by a daemon on its socket and on TCP. */
async function project(t: TestContext, args: string[] = []): Promise<{ stateDir: string; daemon: RunningDaemon; host: string; port: number }> {
  const root = tempDir(t);
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const daemon = await startDaemon(stateDir, { cwd: root, args: ['--listen', '127.0.0.1:0', ...args] });
  t.after(() => daemon.stop());
  const listen = daemon.record.listen!;
  return { stateDir, daemon, host: listen.slice(0, listen.lastIndexOf(':')), port: Number(listen.slice(listen.lastIndexOf(':') + 1)) };
}

/** A client with a new token of these scopes, and the name the daemon records its decisions under (token:<id>, whatever `by` it sends). */
async function tokenClient(t: TestContext, p: { stateDir: string; host: string; port: number }, name: string, scopes: string[]): Promise<RemoteCoordinator & { as: string }> {
  const created = await createToken(p.stateDir, name, { scopes });
  const client = new RemoteCoordinator({ host: p.host, port: p.port, token: created.token, retryForMs: 0 });
  t.after(() => client.close());
  return Object.assign(client, { as: `token:${created.id}` });
}

async function denied(promise: Promise<unknown>, operation: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBatonError(error, 'PERMISSION_DENIED'), String(error));
    assert.equal(error.details.status, 403);
    assert.match(error.message, new RegExp(`it cannot call ${operation}\\b.*that needs scope full or approver$`));
    return true;
  });
}

test('a tasks token cannot approve, reject or change a policy (403 PERMISSION_DENIED); an approver token and the local user can', { timeout: 120_000 }, async (t) => {
  const p = await project(t);
  const agent = await tokenClient(t, p, 'agent', ['tasks']);
  const person = await tokenClient(t, p, 'person', ['approver']);
  const local = p.daemon.client();

  const session = await agent.register({ name: 'agent', autoHeartbeat: false });
  const mine = await agent.addTask({ title: 'deploy', needsApproval: true });
  assert.equal(mine.status, 'awaiting_approval');
  await denied(agent.approveTask(mine.id, { by: 'agent' }), 'approveTask');
  await denied(agent.rejectTask(mine.id, { by: 'agent', reason: 'x' }), 'rejectTask');
  await denied(agent.setApprovalPolicy({ queue: 'default', required: false }), 'setApprovalPolicy');
  assert.deepEqual(await agent.claim(session.id), [], 'the agent cannot claim it either');
  assert.equal((await local.getTask(mine.id)).status, 'awaiting_approval', 'the refusals changed nothing');

  const approved = await person.approveTask(mine.id, { by: 'alice', reason: 'reviewed' });
  assert.equal(approved.status, 'ready');
  assert.equal(approved.approval?.by, person.as);
  assert.equal((await agent.claim(session.id))[0]?.taskId, mine.id);
  // The approver scope decides, and nothing else: it is a person's, not an agent's.
  await assert.rejects(person.addTask({ title: 'sneak' }), (e: unknown) => isBatonError(e, 'PERMISSION_DENIED'));
  await person.setApprovalPolicy({ queue: 'release', required: true, by: 'alice' });
  assert.deepEqual((await agent.approvalPolicies()).map((x) => x.queue), ['release'], 'a tasks token may read the policies');
  const gated = await agent.addTask({ queue: 'release', title: 'tag v2' });
  assert.equal(gated.status, 'awaiting_approval');
  // On the unix socket the local user may decide.
  const rejected = await local.rejectTask(gated.id, { by: 'ops', reason: 'freeze' });
  assert.equal(rejected.status, 'rejected');
  assert.equal(rejected.approval?.by, 'ops', 'the local user names itself');
});

test('a decision reaches a webhook receiver subscribed to it, signed per Standard Webhooks, with who and why', { timeout: 120_000 }, async (t) => {
  const hook = await receiver(t);
  const p = await project(t, ['--webhooks-allow-private']);
  const added = (await webhookCli(p.stateDir, ['add', hook.url, '--event', 'task.approval_requested', '--event', 'task.approved', '--event', 'task.rejected', '--allow-private'])) as Added;
  const person = await tokenClient(t, p, 'person', ['approver']);
  const local = p.daemon.client();
  const a = await local.addTask({ title: 'migrate', needsApproval: true });
  const b = await local.addTask({ title: 'drop', needsApproval: true });
  await local.addTask({ title: 'plain' }); // no approval asked: nothing sent
  await person.approveTask(a.id, { by: 'alice', reason: 'backup taken' });
  await person.rejectTask(b.id, { by: 'bob', reason: 'not today' });

  await hook.until((r) => r.length >= 4, 'two requests and two decisions');
  const bodies = hook.received.map((r) => verify(added.secret, r) as { type: string; data: { key: string; actor: string | null; data: Record<string, unknown> } });
  assert.deepEqual(bodies.map((x) => [x.type, x.data.key]), [
    ['task.approval_requested', String(a.id)],
    ['task.approval_requested', String(b.id)],
    ['task.approved', String(a.id)],
    ['task.rejected', String(b.id)],
  ]);
  // A token's decision is recorded under the token, whatever `by` it sent (docs/audit.md): no token decides under another name.
  assert.deepEqual(bodies[2]!.data.data, { id: a.id, by: person.as, reason: 'backup taken' });
  assert.equal(bodies[2]!.data.actor, person.as);
  assert.deepEqual(bodies[3]!.data.data, { id: b.id, by: person.as, reason: 'not today' });
  assert.equal(payloads(hook.received).length, 4, 'nothing else was sent');
  // Tampered, it no longer verifies: the check above can fail.
  assert.throws(() => verify(added.secret, { ...hook.received[2]!, body: hook.received[2]!.body.replace('backup taken', 'backup faked') }));
});
