// baton msg send|inbox|read|ack as the shell sees them: real CLI processes on a
// temp database, and once through a running daemon. Who speaks: --from /
// --agent, else $BATON_AGENT, else <user>@<host>.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { userAtHost } from '../../src/cli/owner.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, start, startNode, tempDir } from '../helpers/procs.ts';
import { ok, refused } from '../helpers/cli-answers.ts';
import { cli } from '../../support/paths.ts';

test('msg send, inbox, read and ack from the shell: names from --from, $BATON_AGENT or user@host; one line per error', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t, 'baton-msg-cli-'), 'baton.db');
  const as = (agent: string | undefined) => (args: string[]) => baton([...args, '--db', db], { env: { BATON_AGENT: agent } });
  const alice = as('alice');
  const bob = as('bob');
  const me = as(undefined);

  // Nobody knows bob yet: refused with the known names; a message to yourself is fine.
  refused(await alice(['msg', 'send', 'bob', '--subject', 'hi']), 1, /^baton: no agent named "bob" is known .* \[NOT_FOUND\]$/);
  assert.match(ok(await alice(['msg', 'send', 'alice', '--subject', 'note to self'])), /^sent message 1 \(thread m1\) to alice\n$/);
  refused(await bob(['msg', 'send', 'alcie', '--subject', 'hi']), 1, /known agents include "alice"/);

  // The body from a pipe; the sender from --from (over $BATON_AGENT); bob is known once he has sent.
  ok(await bob(['msg', 'send', 'alice', '--subject', 'hello', '--body', 'from bob']));
  // A shell's pipe (a FIFO: a socket from a parent process is never read unless --body - says so, as it may never close).
  const command = `printf 'line one\\nline two\\n' | "$0" "$1" msg send bob --subject piped --importance urgent --thread m1 --from alice --db "$2" --json`;
  const piped = start('sh', ['-c', command, process.execPath, cli, db], { env: { BATON_AGENT: 'carol' } });
  const sent = JSON.parse(ok(await piped.done)) as { id: number; thread: string; recipients: string[] };
  const dashed = startNode(cli, ['msg', 'send', 'alice', '--subject', 'dash', '--body', '-', '--db', db], { stdin: true, env: { BATON_AGENT: 'bob' } });
  dashed.child.stdin!.end('from stdin');
  ok(await dashed.done);
  assert.deepEqual([sent.thread, sent.recipients], ['m1', ['bob']]);

  const box = ok(await bob(['msg', 'inbox']));
  assert.match(box, /^ID +WHEN +FROM +IMPORTANCE +KIND +THREAD +STATE +SUBJECT\n/);
  assert.match(box, new RegExp(`\\n${sent.id} +.* ago +alice +urgent +message +m1 +unread +piped\\n$`));
  const read = ok(await bob(['msg', 'read', String(sent.id)]));
  assert.match(read, /^id: +\d+\nfrom: +alice\n/m);
  assert.match(read, /\nline one\nline two\n$/, 'the body as piped, its last newline dropped');
  assert.equal(ok(await bob(['msg', 'inbox', '--unread'])), 'no unread messages for "bob"\n');
  const entries = JSON.parse(ok(await me(['msg', 'inbox', '--agent', 'bob', '--json']))) as Array<{ id: number; readAt: number | null; body: string }>;
  assert.equal(entries.length, 1);
  assert.ok(entries[0]!.readAt !== null);
  assert.equal(entries[0]!.body, 'line one\nline two');

  assert.equal(ok(await bob(['msg', 'ack', String(sent.id)])), 'acknowledged 1\n');
  assert.equal(ok(await bob(['msg', 'ack', String(sent.id)])), 'acknowledged 0 (1 already were)\n');
  refused(await alice(['msg', 'ack', String(sent.id)]), 1, new RegExp(`^baton: message ${sent.id} is not in "alice"'s inbox .*\\[NOT_FOUND\\]$`));

  assert.ok((JSON.parse(ok(await alice(['msg', 'inbox', '--json']))) as Array<{ body: string }>).some((e) => e.body === 'from stdin'), '--body - reads stdin');

  // Without --from or $BATON_AGENT: <user>@<host>, the name the CLI's leases carry.
  ok(await alice(['msg', 'send', 'alice', 'bob', '--subject', 'both']));
  assert.match(ok(await me(['msg', 'send', 'alice', '--subject', 'who am I'])), /to alice\n$/);
  assert.match(ok(await alice(['msg', 'inbox'])), new RegExp(`${userAtHost().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +normal +message +m\\d+ +unread +who am I\\n$`));

  // Usage errors: exit 2, one line.
  refused(await alice(['msg', 'send', 'bob']), 2, /--subject is required/);
  refused(await alice(['msg', 'send', '--subject', 'x']), 2, /name the recipients one way/);
  refused(await alice(['msg', 'send', 'bob', '--all', '--subject', 'x']), 2, /name the recipients one way/);
  refused(await alice(['msg', 'send', 'bob', '--subject', 'x', '--importance', 'huge']), 2, /--importance must be one of low, normal, high, urgent, got "huge"/);
  refused(await alice(['msg', 'read']), 2, /missing <id>/);
  refused(await alice(['msg', 'ack', 'x1']), 2, /<id>/);
  refused(await alice(['msg', 'send', '--holders', 'path:src/**', '--subject', 'x']), 1, /nobody holds path:src\/\*\* .*\[NOT_FOUND\]$/);
  refused(await alice(['msg', 'send', '--all', '--subject', 'x']), 1, /no live agent but the sender \("alice"\)/);
});

test('msg through the project daemon: --holders reaches the holder of a lease taken from the shell', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'baton-msg-daemon-');
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  const run = (args: string[], agent: string) => baton([...args, '--state-dir', stateDir], { env: { BATON_AGENT: agent, BATON_NO_DAEMON: '' } });
  ok(await run(['lease', 'acquire', 'deploy', '--owner', 'ops', '--ttl', '600'], 'ops'));
  assert.match(ok(await run(['msg', 'send', '--holders', 'deploy', '--subject', 'deploy done?'], 'dev')), /to ops\n$/);
  const inbox = JSON.parse(ok(await run(['msg', 'inbox', '--json'], 'ops'))) as Array<{ from: string; subject: string }>;
  assert.deepEqual(inbox.map((e) => [e.from, e.subject]), [['dev', 'deploy done?']]);
  // The daemon answered it: the message is in its store.
  assert.equal((await daemon.client().inbox('ops')).length, 1);
});
