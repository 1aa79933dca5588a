// Durable inboxes across a daemon crash: 8 agent processes send at once
// through the daemon, half of each inbox is read, the daemon is killed (-9)
// and started again on the same state, and 8 processes send again. Every
// inbox then holds exactly what was sent to it, each message once; what was
// read stays read (at the same time), what was not stays unread.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InboxEntry } from '../../src/coordinator.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

const AGENTS = Array.from({ length: 8 }, (_, i) => `agent-${i}`);
const EACH = 12;

/** The 8 senders, started together and told to go at once; adds, per recipient, the ids sent to it. */
async function sendAll(daemon: RunningDaemon, expected: Map<string, number[]>): Promise<void> {
  const procs = AGENTS.map((me, i) => {
    const peers = AGENTS.filter((_, k) => k !== i).slice(i % 3).concat(AGENTS.filter((_, k) => k !== i).slice(0, i % 3));
    return startNode(worker('message-sender'), [daemon.record.socket!, me, String(EACH), peers.join(',')], { stdin: true });
  });
  await Promise.all(procs.map((p) => p.line('ready', 60_000)));
  for (const p of procs) p.child.stdin!.write('go\n');
  const finished = await Promise.all(procs.map((p) => p.done));
  for (const [i, f] of finished.entries()) {
    assert.equal(f.code, 0, `sender ${i}: ${f.stderr}`);
    const sent = f.stdout.split('\n').filter((l) => l.startsWith('sent ')).map((l) => JSON.parse(l.slice(5)) as { id: number; recipients: string[] });
    assert.equal(sent.length, EACH);
    for (const s of sent) for (const r of s.recipients) expected.get(r)!.push(s.id);
  }
}

async function everything(daemon: RunningDaemon, agent: string): Promise<InboxEntry[]> {
  const c = daemon.client();
  const out: InboxEntry[] = [];
  for (let after = 0; ; ) {
    const page = await c.inbox(agent, { after, limit: 500 });
    out.push(...page);
    if (page.length < 500) return out;
    after = page.at(-1)!.id;
  }
}

test('8 agents send at once, the daemon is killed -9 and restarted: every inbox exact, nothing lost or new twice', { timeout: 150_000 }, async (t) => {
  const dir = tempDir(t, 'baton-msg-restart-');
  const stateDir = join(dir, 'state');
  let daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  // The names are known: each agent registered once (its session may lapse; its inbox stays).
  const admin = daemon.client();
  for (const name of AGENTS) await admin.register({ name, autoHeartbeat: false, ttlMs: 3_600_000 });

  const expected = new Map(AGENTS.map((a) => [a, [] as number[]]));
  await sendAll(daemon, expected);

  // Each agent reads the older half of its inbox before the crash.
  const readBefore = new Map<number, number>();
  const unreadBefore = new Map<string, number[]>();
  for (const agent of AGENTS) {
    const box = await everything(daemon, agent);
    const half = box.slice(0, Math.floor(box.length / 2)).map((e) => e.id);
    for (const e of await admin.readMessages(agent, half)) readBefore.set(e.id * 100 + AGENTS.indexOf(agent), e.readAt!);
    unreadBefore.set(agent, box.slice(half.length).map((e) => e.id));
  }

  await daemon.kill();
  daemon = await startDaemon(stateDir, { cwd: dir });
  await sendAll(daemon, expected);

  let total = 0;
  for (const agent of AGENTS) {
    const box = await everything(daemon, agent);
    const ids = box.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `${agent}: no message twice`);
    assert.deepEqual(ids, [...expected.get(agent)!].sort((a, b) => a - b), `${agent}: exactly the messages sent to it, oldest first`);
    for (const e of box) {
      const before = readBefore.get(e.id * 100 + AGENTS.indexOf(agent));
      if (before !== undefined) assert.equal(e.readAt, before, `${agent} #${e.id}: read before the crash, at the same time`);
      else assert.equal(e.readAt, null, `${agent} #${e.id}: never read, still unread`);
      assert.equal(e.body, `body of ${e.subject}`);
    }
    const unread = (await daemon.client().inbox(agent, { unread: true, limit: 500 })).map((e) => e.id);
    // Unread: what was unread before the crash, and everything sent after it.
    assert.deepEqual(unread, ids.filter((id) => !readBefore.has(id * 100 + AGENTS.indexOf(agent))));
    assert.ok(unreadBefore.get(agent)!.every((id) => unread.includes(id)));
    total += ids.length;
  }
  const sentTotal = [...expected.values()].reduce((n, ids) => n + ids.length, 0);
  assert.equal(total, sentTotal);
  process.stdout.write(`# ${AGENTS.length} agents x ${EACH} messages x 2 rounds around a kill -9: ${sentTotal} inbox entries, each exactly once; ${readBefore.size} read before the crash stayed read\n`);
});

test('a release request survives a kill -9 of the daemon: still pending after, the holder told once, the asker told once when the hold ends', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t, 'baton-release-restart-');
  const stateDir = join(dir, 'state');
  let daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  let c = daemon.client();
  for (const name of ['holder', 'asker']) await c.register({ name, autoHeartbeat: false, ttlMs: 3_600_000 });
  // No session: the hold outlives the daemon's crash, as a lease with a TTL does.
  const lease = await c.acquire('path:src/auth/**', { owner: 'holder', ttlMs: 600_000 });
  const [asked] = await c.requestRelease('path:src/auth/**', { from: 'asker', reason: 'the login fix needs it' });
  assert.equal(asked!.state, 'pending');

  await daemon.kill();
  daemon = await startDaemon(stateDir, { cwd: dir });
  c = daemon.client();

  const pending = await c.releaseRequests({ key: 'path:src/auth/**' });
  assert.deepEqual(pending.map((r) => [r.id, r.state]), [[asked!.id, 'pending']], 'the request is still there, pending');
  const told = (await c.inbox('holder', { unread: true })).filter((m) => m.kind === 'release-request');
  assert.equal(told.length, 1, 'the holder has the request once, unread');
  assert.match(told[0]!.body, /the login fix needs it/);

  await c.release(lease);
  await c.sweep();
  const [answered] = await c.releaseRequests({ key: 'path:src/auth/**' });
  assert.equal(answered!.state, 'released');
  const answers = (await c.inbox('asker')).filter((m) => m.kind === 'release-answer');
  assert.equal(answers.length, 1, 'the asker is told once');
  await c.sweep();
  assert.equal((await c.inbox('asker')).filter((m) => m.kind === 'release-answer').length, 1, 'a later sweep tells nobody again');
});
