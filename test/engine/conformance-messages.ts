// Conformance cases of messages between agents, run by conformance.ts on every backend and transport.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Coordinator } from '../../src/index.ts';
import { MAX_INBOX_LIMIT, MAX_MESSAGE_BODY_LENGTH, MAX_MESSAGE_RECIPIENTS, MAX_MESSAGE_SUBJECT_LENGTH } from '../../src/limits.ts';
import type { WithCoordinator } from './conformance.ts';

async function rejectsWith(promise: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    for (const m of mentions) assert.ok(error.message.includes(m), `message ${JSON.stringify(error.message)} should mention ${m}`);
    return true;
  });
}

/** Names no other case (on a shared database) uses. */
function names(...bases: string[]): string[] {
  const tag = randomUUID().slice(0, 8);
  return bases.map((b) => `${b}-${tag}`);
}

/** Registered sessions, so the names are known; no heartbeat timers left behind. */
async function agents(c: Coordinator, ...list: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of list) ids.push((await c.register({ name, autoHeartbeat: false, ttlMs: 600_000 })).id);
  return ids;
}

export function messagesConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('messages: sent to an agent by name, in its inbox; threads; read and ack per recipient', async (c) => {
    const [alice, bob] = names('alice', 'bob');
    await agents(c, alice!, bob!);
    const first = await c.sendMessage({ from: alice!, to: { agent: bob! }, subject: 'auth refactor', body: 'I take src/auth', importance: 'high' });
    assert.equal(first.thread, `m${first.id}`, 'a new message starts its own thread, m<id>');
    assert.deepEqual(first.recipients, [bob]);
    const reply = await c.sendMessage({ from: bob!, to: { agent: alice! }, subject: 're: auth refactor', thread: first.thread });
    assert.equal(reply.thread, first.thread);
    assert.ok(reply.id > first.id);

    const [entry, ...rest] = await c.inbox(bob!);
    assert.equal(rest.length, 0);
    assert.deepEqual({ ...entry, at: 0 }, {
      id: first.id, thread: first.thread, from: alice, subject: 'auth refactor', body: 'I take src/auth', importance: 'high', kind: 'message',
      ref: null, at: 0, readAt: null, ackedAt: null,
    });
    assert.equal((await c.inbox(alice!, { thread: first.thread })).length, 1);
    assert.equal((await c.inbox(alice!, { thread: 'm0' })).length, 0);

    const [read] = await c.readMessages(bob!, [first.id]);
    assert.ok(read!.readAt !== null && read!.ackedAt === null);
    assert.equal((await c.inbox(bob!, { unread: true })).length, 0);
    const [again] = await c.readMessages(bob!, [first.id]);
    assert.equal(again!.readAt, read!.readAt, 'the first read time stays');

    assert.equal(await c.ackMessages(bob!, [first.id]), 1);
    assert.equal(await c.ackMessages(bob!, [first.id]), 0, 'acknowledging twice changes nothing');
    assert.ok((await c.inbox(bob!))[0]!.ackedAt !== null);
    await rejectsWith(c.ackMessages(alice!, [first.id]), 'NOT_FOUND', String(first.id), alice!);
    await rejectsWith(c.readMessages(bob!, [first.id, reply.id]), 'NOT_FOUND', String(reply.id));
    // The reply, unread and unacknowledged in alice's inbox: bob's ack touched only bob's entry.
    const [mine] = await c.inbox(alice!);
    assert.equal(mine!.id, reply.id);
    assert.equal(mine!.readAt, null);

    const sent = (await c.events({ types: ['message.sent'] })).filter((e) => e.actor === alice || e.actor === bob);
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0]!.data, { id: first.id, thread: first.thread, from: alice, to: [bob], subject: 'auth refactor', importance: 'high', kind: 'message', ref: null });
    assert.ok(!JSON.stringify(sent).includes('I take src/auth'), 'the event carries no body');
    assert.equal((await c.events({ types: ['message.acked'] })).filter((e) => e.actor === bob).length, 1, 'one acked event, not two');
  });

  withCoordinator('messages: several agents each once; the inbox pages oldest first by id', async (c) => {
    const [a, b, d] = names('a', 'b', 'd');
    await agents(c, a!, b!, d!);
    const sent = await c.sendMessage({ from: a!, to: { agents: [b!, d!, b!, a!] }, subject: 'hello all' });
    assert.deepEqual(sent.recipients, [b, d, a], 'each once, in the order named; to yourself by name is allowed');
    const ids: number[] = [sent.id];
    for (let i = 0; i < 4; i++) ids.push((await c.sendMessage({ from: a!, to: { agent: b! }, subject: `n${i}` })).id);
    const page1 = await c.inbox(b!, { limit: 2 });
    const page2 = await c.inbox(b!, { limit: 2, after: page1.at(-1)!.id });
    const page3 = await c.inbox(b!, { limit: 2, after: page2.at(-1)!.id });
    assert.deepEqual([...page1, ...page2, ...page3].map((e) => e.id), ids);
    assert.deepEqual((await c.readMessages(b!, [ids[2]!, ids[0]!])).map((e) => e.id), [ids[2], ids[0]], 'in the order asked');
    assert.deepEqual((await c.inbox(b!, { unread: true })).map((e) => e.id), [ids[1], ids[3], ids[4]]);
    assert.equal(await c.ackMessages(b!, [ids[0]!, ids[1]!, ids[0]!]), 2);
    assert.equal((await c.inbox(d!)).length, 1);
  });

  withCoordinator('messages: to the holders of a key, and of every overlapping path lease; nobody holding it is an error', async (c) => {
    const [asker, h1, h2, h3, other] = names('asker', 'h1', 'h2', 'h3', 'other');
    const top = `t${randomUUID().slice(0, 8)}`; // paths no other case holds
    const l1 = await c.acquire(`path:${top}/auth/**`, { owner: h1!, mode: 'shared' });
    const l2 = await c.acquire(`path:${top}/auth/login.ts`, { owner: h2!, mode: 'shared' });
    const l3 = await c.acquire(`path:${top}/docs/**`, { owner: other! });
    const sent = await c.sendMessage({ from: asker!, to: { holdersOf: `path:${top}/auth/session.ts` }, subject: 'may I?' });
    assert.deepEqual(sent.recipients, [h1]);
    const wide = await c.sendMessage({ from: asker!, to: { holdersOf: `path:${top}/auth/*.ts` }, subject: 'refactor' });
    assert.deepEqual([...wide.recipients].sort(), [h1, h2].sort());
    const own = await c.sendMessage({ from: h1!, to: { holdersOf: `path:${top}/auth/**` }, subject: 'mine too' });
    assert.deepEqual(own.recipients, [h2], 'the sender is left out');
    await rejectsWith(c.sendMessage({ from: asker!, to: { holdersOf: `path:${top}/lib/**` }, subject: 'x' }), 'NOT_FOUND', `nobody holds path:${top}/lib/**`);
    await rejectsWith(c.sendMessage({ from: other!, to: { holdersOf: `path:${top}/docs/x.md` }, subject: 'x' }), 'NOT_FOUND', 'nobody but you');

    // A lease bound to a session is held by the session's name, whatever its owner says (an MCP agent's carries its reason).
    const [agentName] = names('agent');
    const session = await c.register({ name: agentName!, autoHeartbeat: false, ttlMs: 600_000 });
    const bound = await c.acquire(`path:${top}/ui/**`, { owner: `${agentName}: fixing the header`, sessionId: session.id, ttlMs: 0 });
    assert.deepEqual((await c.sendMessage({ from: asker!, to: { holdersOf: `path:${top}/ui/x.css` }, subject: 'ui?' })).recipients, [agentName]);
    await c.release(bound);

    const named = await c.acquire(`deploy-${h3}`, { owner: h3! });
    assert.deepEqual((await c.sendMessage({ from: asker!, to: { holdersOf: `deploy-${h3}` }, subject: 'deploy?' })).recipients, [h3]);
    await c.release(named);
    await rejectsWith(c.sendMessage({ from: asker!, to: { holdersOf: `deploy-${h3}` }, subject: 'deploy?' }), 'NOT_FOUND', `nobody holds deploy-${h3}`);
    // h3 held a lease once and has an inbox: still known by name after the lease ended.
    assert.deepEqual((await c.sendMessage({ from: asker!, to: { agent: h3! }, subject: 'thanks' })).recipients, [h3]);
    for (const l of [l1, l2, l3]) await c.release(l);
  });

  withCoordinator('messages: to all is every live session name but the sender, each once', async (c) => {
    const [me, x, y, gone] = names('me', 'x', 'y', 'gone');
    const [, , , goneId] = await agents(c, me!, x!, y!, gone!);
    await agents(c, x!); // a second session of x: still one copy
    await c.endSession(goneId!);
    const sent = await c.sendMessage({ from: me!, to: { all: true }, subject: 'standup' });
    for (const n of [x, y]) assert.ok(sent.recipients.includes(n!), `${n} is live`);
    assert.ok(!sent.recipients.includes(me!) && !sent.recipients.includes(gone!));
    assert.equal(sent.recipients.filter((r) => r === x).length, 1);
    assert.equal((await c.inbox(x!)).length, 1);
    assert.equal((await c.inbox(gone!)).length, 0);
  });

  withCoordinator('messages: an unknown recipient is NOT_FOUND naming it and the nearest known names; nothing is sent', async (c) => {
    const [alice, bob] = names('alice', 'bob');
    await agents(c, alice!, bob!);
    const typo = bob!.replace('bob', 'bbo');
    await rejectsWith(c.sendMessage({ from: alice!, to: { agent: typo }, subject: 'hi' }), 'NOT_FOUND', JSON.stringify(typo), 'known agents include');
    await rejectsWith(c.sendMessage({ from: alice!, to: { agents: [bob!, 'nobody-at-all'] }, subject: 'hi' }), 'NOT_FOUND', '"nobody-at-all"');
    assert.equal((await c.inbox(bob!)).length, 0, 'all or nothing');
    await rejectsWith(c.ackMessages(bob!, [999_999_999]), 'NOT_FOUND', '999999999');
  });

  withCoordinator('messages: bad input is INVALID_ARGUMENT naming the field, and sends nothing', async (c) => {
    const [a, b] = names('a', 'b');
    await agents(c, a!, b!);
    const to = { agent: b! };
    await rejectsWith(c.sendMessage({ from: a!, to, subject: '' }), 'INVALID_ARGUMENT', 'subject');
    await rejectsWith(c.sendMessage({ from: a!, to, subject: 's'.repeat(MAX_MESSAGE_SUBJECT_LENGTH + 1) }), 'INVALID_ARGUMENT', 'subject', String(MAX_MESSAGE_SUBJECT_LENGTH));
    await rejectsWith(c.sendMessage({ from: a!, to, subject: 's', body: 'b'.repeat(MAX_MESSAGE_BODY_LENGTH + 1) }), 'INVALID_ARGUMENT', 'body', String(MAX_MESSAGE_BODY_LENGTH));
    await rejectsWith(c.sendMessage({ from: a!, to, subject: 's', importance: 'critical' as never }), 'INVALID_ARGUMENT', 'importance');
    await rejectsWith(c.sendMessage({ from: '', to, subject: 's' }), 'INVALID_ARGUMENT', 'from');
    await rejectsWith(c.sendMessage({ from: a!, to: { agent: b!, all: true } as never, subject: 's' }), 'INVALID_ARGUMENT', 'to');
    await rejectsWith(c.sendMessage({ from: a!, to: {} as never, subject: 's' }), 'INVALID_ARGUMENT', 'to');
    await rejectsWith(c.sendMessage({ from: a!, to: { all: false } as never, subject: 's' }), 'INVALID_ARGUMENT', 'to');
    const many = Array.from({ length: MAX_MESSAGE_RECIPIENTS + 1 }, (_, i) => `n${i}`);
    await rejectsWith(c.sendMessage({ from: a!, to: { agents: many }, subject: 's' }), 'INVALID_ARGUMENT', 'agents', String(MAX_MESSAGE_RECIPIENTS));
    await rejectsWith(c.sendMessage({ from: a!, to: { holdersOf: 'path:../x' }, subject: 's' }), 'INVALID_ARGUMENT', '..');
    await rejectsWith(c.inbox(b!, { limit: MAX_INBOX_LIMIT + 1 }), 'INVALID_ARGUMENT', 'limit');
    await rejectsWith(c.inbox(''), 'INVALID_ARGUMENT', 'agent');
    await rejectsWith(c.readMessages(b!, []), 'INVALID_ARGUMENT', 'ids');
    await rejectsWith(c.ackMessages(b!, [0]), 'INVALID_ARGUMENT', 'ids');
    assert.equal((await c.inbox(b!)).length, 0);
  });

  withCoordinator('messages: an idempotency key sends once', async (c) => {
    const [a, b] = names('a', 'b');
    await agents(c, a!, b!);
    const one = await c.sendMessage({ from: a!, to: { agent: b! }, subject: 'once', idempotencyKey: `send-${a}` });
    const two = await c.sendMessage({ from: a!, to: { agent: b! }, subject: 'once', idempotencyKey: `send-${a}` });
    assert.deepEqual(two, one);
    assert.equal((await c.inbox(b!)).length, 1);
  });
}
