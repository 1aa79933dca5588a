// Messages between agents through the official MCP SDK client: send_message,
// inbox, ack_message, and the next-call note (new high or urgent messages and
// release requests, once each, at the end of any tool's result).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcpAgent, mcpProject } from '../helpers/mcp.ts';

test('send_message, inbox and ack_message between MCP agents; the next-call note comes once per new message', { timeout: 120_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-mcp-msg-');
  const alice = await mcpAgent(t, project, 'alice');
  const bob = await mcpAgent(t, project, 'bob');
  const carol = await mcpAgent(t, project, 'carol');
  for (const a of [alice, bob, carol]) assert.ok((await a.call('status')).ok);

  // A normal message: in the inbox, no note.
  const hello = await alice.call('send_message', { to: 'bob', subject: 'hello', body: 'I am on the login bug' });
  assert.ok(hello.ok, hello.text);
  const sent = hello.data.sent as { id: number; thread: string; to: string[] };
  assert.deepEqual(sent.to, ['bob']);
  assert.match(String(hello.data.next), new RegExp(`thread "${sent.thread}"`));
  assert.equal((await bob.call('status')).data.inbox_note, undefined, 'a normal message is not pointed out');

  // An urgent one: the next call of bob's (any tool) says so, once.
  assert.ok((await alice.call('send_message', { to: ['bob'], subject: 'stop the deploy', importance: 'urgent', thread: sent.thread })).ok);
  const noted = await bob.call('list_reservations');
  assert.equal(noted.data.inbox_note, '1 unread message (1 urgent) from alice: call inbox');
  assert.ok(noted.text.trimEnd().endsWith('"inbox_note":"1 unread message (1 urgent) from alice: call inbox"}'), 'the note trails the result');
  assert.equal((await bob.call('status')).data.inbox_note, undefined, 'not repeated on the next call');

  // A release request (request_release) is pointed out to the holder with the key and the asker.
  assert.ok((await alice.call('reserve_paths', { paths: ['src/auth/**'], reason: 'auth refactor' })).ok);
  const asked = await carol.call('request_release', { key: 'path:src/auth/**', reason: 'the login fix needs it' });
  assert.ok(asked.ok, asked.text);
  const told = await alice.call('status');
  assert.match(String(told.data.inbox_note), /^1 release request: for path:src\/auth\/\*\* from carol: call inbox, and answer_release/);

  // holders_of names the holder by its session's name (its lease's owner also carries the reason).
  const toHolders = await carol.call('send_message', { holders_of: 'path:src/auth/login.ts', subject: 'when are you done?' });
  assert.ok(toHolders.ok, toHolders.text);
  assert.deepEqual((toHolders.data.sent as { to: string[] }).to, ['alice']);

  // bob's inbox: both messages, oldest first, with bodies, marked read by showing them.
  const box = await bob.call('inbox');
  assert.ok(box.ok, box.text);
  const messages = box.data.messages as Array<{ id: number; subject: string; body: string; from: string; read: string | null; importance: string; thread: string }>;
  assert.deepEqual(messages.map((m) => [m.subject, m.from, m.importance]), [['hello', 'alice', 'normal'], ['stop the deploy', 'alice', 'urgent']]);
  assert.equal(messages[0]!.body, 'I am on the login bug');
  assert.ok(messages.every((m) => m.read !== null && m.thread === sent.thread));
  assert.match(String(box.data.next), /ack_message/);
  assert.deepEqual((await bob.call('inbox')).data.messages, [], 'read now: the default shows unread only');
  assert.equal((await bob.call('inbox', { include_read: true })).data.messages instanceof Array, true);

  const ids = messages.map((m) => m.id);
  const acked = await bob.call('ack_message', { ids });
  assert.deepEqual([acked.data.acked, acked.data.already], [2, 0]);
  const again = await bob.call('ack_message', { ids });
  assert.deepEqual([again.data.acked, again.data.already], [0, 2]);
  const notMine = await carol.call('ack_message', { ids: [ids[0]!] });
  assert.equal(notMine.code, 'NOT_FOUND');
  assert.match(notMine.text, /not in "carol"'s inbox .* — .*call inbox/);

  // Refusals that say what to do.
  const typo = await alice.call('send_message', { to: 'bbo', subject: 'x' });
  assert.equal(typo.code, 'NOT_FOUND');
  assert.match(typo.text, /no agent named "bbo" is known.*known agents include "bob".*— check the name/);
  const twoWays = await alice.call('send_message', { to: 'bob', all: true, subject: 'x' });
  assert.equal(twoWays.code, 'INVALID_ARGUMENT');
  const nobody = await alice.call('send_message', { holders_of: 'path:docs/**', subject: 'x' });
  assert.equal(nobody.code, 'NOT_FOUND');
  assert.match(nobody.text, /nobody holds path:docs\/\*\*/);

  // To all: every connected agent but the sender.
  const everyone = await alice.call('send_message', { all: true, subject: 'standup in 5', importance: 'high' });
  assert.deepEqual([...(everyone.data.sent as { to: string[] }).to].sort(), ['bob', 'carol']);
  assert.equal((await carol.call('status')).data.inbox_note, '1 unread message from alice: call inbox');
});
