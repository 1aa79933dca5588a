// baton release-request through the project's daemon, as real processes: ask,
// list, decline, and the answer 'released' once the hold ends (the holder's and
// the asker's inboxes read through the daemon's client).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { baton, tempDir } from '../helpers/procs.ts';
import { json, refused } from '../helpers/cli-answers.ts';

const withDaemon = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_HOME: '', BATON_URL: '' };

async function repoWithDaemon(t: TestContext): Promise<{ dir: string; daemon: RunningDaemon }> {
  const dir = tempDir(t);
  execFileSync('git', ['init', '-q', dir]);
  const daemon = await startDaemon(join(dir, '.git', 'baton'), { cwd: dir });
  t.after(() => daemon.stop());
  return { dir, daemon };
}

test('baton release-request: ask, list, decline, and released once the hold ends; both sides told in their inboxes', async (t) => {
  const { dir, daemon } = await repoWithDaemon(t);
  const run = (args: string[]) => baton(args, { cwd: dir, env: withDaemon });
  const c = daemon.client();

  const lease = json(await run(['lease', 'acquire', 'deploy', '--owner', 'carol', '--json']));
  const [asked] = json(await run(['release-request', 'ask', 'deploy', '--reason', 'hotfix for the login bug', '--from', 'dave', '--json']));
  assert.deepEqual([asked.key, asked.token, asked.holder, asked.asker, asked.state], ['deploy', lease.token, 'carol', 'dave', 'pending']);
  const [again] = json(await run(['release-request', 'ask', 'deploy', '--reason', 'please', '--from', 'dave', '--json']));
  assert.equal(again.id, asked.id, 'asking again while pending is the same request');
  const plain = await run(['release-request', 'list', '--holder', 'carol']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /ID\s+KEY\s+TOKEN\s+HOLDER\s+ASKER\s+STATE/);
  assert.match(plain.stdout, new RegExp(`${asked.id}\\s+deploy\\s+${lease.token}\\s+carol\\s+dave\\s+pending`));

  const note = (await c.inbox('carol')).filter((m) => m.kind === 'release-request');
  assert.equal(note.length, 1, 'the holder is told once');
  assert.equal(note[0]!.from, 'dave');
  assert.match(note[0]!.body, /hotfix for the login bug/);
  assert.match(note[0]!.body, new RegExp(`baton release-request decline ${asked.id}`), 'the note says how to answer from a shell');

  // Refusals: one line each, nothing changed.
  refused(await run(['release-request', 'released', String(asked.id), '--from', 'carol']), 1, /release it first.*\[CONFLICT\]/);
  refused(await run(['release-request', 'decline', String(asked.id), '--from', 'dave']), 1, /only its holder answers it/);
  refused(await run(['release-request', 'ask', 'nothing-here', '--reason', 'r', '--from', 'dave']), 1, /nothing holds "nothing-here"/);
  refused(await run(['release-request', 'ask', 'deploy', '--from', 'dave']), 2, /--reason/);
  refused(await run(['release-request', 'list', '--state', 'open']), 2, /--state must be one of pending, released, declined, lapsed/);

  const declined = json(await run(['release-request', 'decline', String(asked.id), '--from', 'carol', '--reason', 'deploying now', '--json']));
  assert.deepEqual([declined.state, declined.answer], ['declined', 'deploying now']);
  const told = (await c.inbox('dave')).filter((m) => m.kind === 'release-answer');
  assert.equal(told.length, 1);
  assert.match(told[0]!.body, /deploying now/);

  // A second request, then the holder lets go: a list answers it 'released' (no sweep needed), and the asker is told.
  const [second] = json(await run(['release-request', 'ask', 'deploy', '--reason', 'now?', '--from', 'dave', '--ttl', '5m', '--json']));
  assert.ok(second.expiresAt - second.createdAt === 300_000, '--ttl 5m');
  json(await run(['lease', 'release', 'deploy', '--token', String(lease.token), '--json']));
  const listed = json(await run(['release-request', 'list', '--asker', 'dave', '--json']));
  assert.deepEqual(listed.map((r: { id: number; state: string }) => [r.id, r.state]), [[second.id, 'released'], [asked.id, 'declined']]);
  assert.equal((await c.inbox('dave')).filter((m) => m.kind === 'release-answer').length, 2);
});
