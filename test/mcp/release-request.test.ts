// Release requests between two `baton mcp` agents, driven by the official MCP
// SDK client over stdio against a real daemon: the refusal's hint names
// request_release and the key; the holder's next tool result carries the note
// (naming the key and the asker); a decline and a release reach the asker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcpAgent, mcpProject, type Answer } from '../helpers/mcp.ts';

/** The refusal's hint: what follows the dash. */
const hintOf = (a: Answer): string => a.text.split(' — ').slice(1).join(' — ');

test('an agent refused a reservation asks its holder to release it; the holder sees it on its next call and answers; the asker is told', { timeout: 120_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-release-');
  const alice = await mcpAgent(t, project, 'alice');
  const bob = await mcpAgent(t, project, 'bob');

  assert.ok((await alice.call('reserve_paths', { paths: ['src/auth/**'], reason: 'refactoring auth' })).ok);
  const refused = await bob.call('reserve_paths', { paths: ['src/auth/login.ts'] });
  assert.equal(refused.code, 'LOCKED');
  assert.match(hintOf(refused), /request_release with key "path:src\/auth\/login\.ts"/, refused.text);
  const named = (await alice.call('acquire_lock', { name: 'deploy' })).ok && (await bob.call('acquire_lock', { name: 'deploy' }));
  assert.match(hintOf(named as Answer), /request_release with key "deploy"/);

  const asked = await bob.call('request_release', { key: 'path:src/auth/login.ts', reason: 'the login bug fix needs login.ts' });
  assert.ok(asked.ok, asked.text);
  const [request] = asked.data.asked as Array<{ id: number; key: string; holder: string; state: string }>;
  assert.deepEqual([request!.key, request!.holder, request!.state], ['path:src/auth/**', 'alice', 'pending']);
  assert.equal(((await bob.call('request_release', { key: 'path:src/auth/login.ts', reason: 'again' })).data.asked as Array<{ id: number }>)[0]!.id, request!.id, 'asked once');

  // The holder's next call, whatever it is, carries the note: the key and the asker.
  const next = await alice.call('list_reservations', {});
  assert.ok(next.ok);
  const holderNote = String(next.data.inbox_note);
  assert.match(holderNote, /release request.*for path:src\/auth\/\*\* from bob/, `the note names the key and the asker: ${holderNote}`);
  assert.match(holderNote, /answer_release/);

  const declined = await alice.call('answer_release', { id: request!.id, answer: 'declined', reason: 'halfway through a refactor' });
  assert.ok(declined.ok, declined.text);
  assert.equal((declined.data.answered as Array<{ state: string }>)[0]!.state, 'declined');
  const inbox = (await project.admin.inbox('bob')).filter((m) => m.kind === 'release-answer');
  assert.equal(inbox.length, 1);
  assert.match(inbox[0]!.body, /halfway through a refactor/);
  // And the asker's next call carries the answer.
  const askerNote = String((await bob.call('list_reservations', {})).data.inbox_note);
  assert.match(askerNote, /alice declined to release path:src\/auth\/\*\*/, askerNote);
  if (process.env.SHOW_NOTES) console.log(`holder's note: ${holderNote}\nasker's note: ${askerNote}`);

  // Bob asks again; Alice lets go through answer_release, which releases her reservation for her.
  const again = await bob.call('request_release', { key: 'path:src/auth/login.ts', reason: 'still blocked' });
  const second = (again.data.asked as Array<{ id: number }>)[0]!;
  assert.notEqual(second.id, request!.id);
  const released = await alice.call('answer_release', { key: 'path:src/auth/**', answer: 'released' });
  assert.ok(released.ok, released.text);
  assert.deepEqual((released.data.answered as Array<{ id: number; state: string }>).map((r) => [r.id, r.state]), [[second.id, 'released']]);
  assert.deepEqual((await alice.call('list_reservations', { mine: true })).data.reservations, [], 'her reservation is gone');
  assert.ok((await bob.call('reserve_paths', { paths: ['src/auth/login.ts'] })).ok, 'and bob reserves it');
  assert.equal((await project.admin.inbox('bob')).filter((m) => m.kind === 'release-answer').length, 2);

  // Bad input: a key nobody holds, one you hold yourself, neither id nor key.
  assert.equal((await bob.call('request_release', { key: 'path:docs/**', reason: 'r' })).code, 'NOT_FOUND');
  const self = await bob.call('request_release', { key: 'path:src/auth/login.ts', reason: 'r' });
  assert.equal(self.code, 'INVALID_ARGUMENT');
  assert.match(hintOf(self), /release_paths/);
  assert.equal((await alice.call('answer_release', { answer: 'declined' })).code, 'INVALID_ARGUMENT');
});
