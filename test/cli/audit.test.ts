// baton audit: admin actions done through the CLI (a force-release, a budget
// change, a token created and revoked, a task cancelled) are listed with who
// did them; --actor and --since narrow the list; no token ever appears.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

interface Entry {
  seq: number;
  at: number;
  actor: string | null;
  action: string;
  subject: string | null;
  data: Record<string, unknown>;
}

test('baton audit names the actor and action of each admin action; --actor and --since filter; secrets never appear', { timeout: 300_000 }, async (t) => {
  const home = join(tempDir(t), 'state');
  const as = (actor: string) => (...args: string[]): Promise<Finished> => baton(args, { env: { BATON_HOME: home, BATON_NO_DAEMON: '1', BATON_DB: '', BATON_URL: '', BATON_ACTOR: actor } });
  const ok = (r: Finished): Finished => {
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  const alice = as('user:alice');
  ok(await as('user:bob')('lease', 'acquire', 'deploy', '--owner', 'bob', '--ttl', '600'));
  ok(await alice('lease', 'force-release', 'deploy', '--reason', 'stuck deploy'));
  ok(await alice('budget', 'set', '--limit', '5000'));
  const created = JSON.parse(ok(await as('user:carol')('auth', 'token', 'create', 'ci', '--scope', 'tasks', '--json')).stdout) as { id: string; token: string };
  // What tokens.json keeps of it (a hash): long strings, none of which may reach the log.
  const kept = JSON.stringify(JSON.parse(readFileSync(join(home, 'tokens.json'), 'utf8'))).match(/"[^"]{32,}"/g) ?? [];
  assert.ok(kept.length > 0, 'tokens.json keeps a hash');
  ok(await alice('auth', 'token', 'revoke', created.id));
  const task = JSON.parse(ok(await alice('task', 'add', 'migrate the db', '--json')).stdout) as { id: number };
  ok(await as('user:dave')('task', 'cancel', String(task.id), '--reason', 'not now'));

  const audit = async (...args: string[]): Promise<Entry[]> => JSON.parse(ok(await alice('audit', '--json', ...args)).stdout) as Entry[];
  const all = await audit();
  const find = (action: string): Entry => {
    const found = all.find((e) => e.action === action);
    assert.ok(found, `${action} in ${JSON.stringify(all.map((e) => e.action))}`);
    return found;
  };
  const forced = find('lease.released');
  assert.deepEqual([forced.actor, forced.subject, forced.data.forced, forced.data.reason], ['user:alice', 'deploy', true, 'stuck deploy']);
  assert.deepEqual([find('budget.set').actor, find('budget.set').data.limit], ['user:alice', 5000]);
  const minted = find('token.created');
  assert.deepEqual([minted.actor, minted.subject, minted.data.name, minted.data.scopes], ['user:carol', created.id, 'ci', ['tasks']]);
  assert.deepEqual([find('token.revoked').actor, find('token.revoked').subject], ['user:alice', created.id]);
  assert.deepEqual([find('task.cancelled').actor, find('task.cancelled').subject], ['user:dave', String(task.id)]);
  assert.equal(find('lease.acquired').actor, 'bob', 'an agent action keeps its own actor');

  // The token itself, and any part of its secret, is nowhere in the audit or the log's text.
  const secret = created.token.slice(created.token.indexOf('_') + 1);
  const text = ok(await alice('audit')).stdout;
  for (const shown of [JSON.stringify(all), text, ok(await alice('events', '--json')).stdout]) assert.ok(!shown.includes(secret), 'the token never appears');
  for (const value of kept) assert.ok(!JSON.stringify(all).includes(value.slice(1, -1)), 'nor what tokens.json keeps');
  // The table: one line an event, time, actor, action, subject.
  assert.match(text, /^\S+Z\s+user:alice\s+lease\.released\s+deploy\s+reason=stuck deploy forced=true$/m);

  assert.deepEqual((await audit('--actor', 'user:carol')).map((e) => e.action), ['token.created']);
  assert.deepEqual((await audit('--actor', 'user:alice', '--type', 'token')).map((e) => e.action), ['token.revoked']);
  const since = new Date(find('token.revoked').at + 1).toISOString();
  assert.deepEqual((await audit('--since', since)).map((e) => e.action), ['task.added', 'task.cancelled']);
  assert.equal((await audit('--since', '1h')).length, all.length, 'everything happened within the hour');
  assert.deepEqual((await audit('--limit', '1')).map((e) => e.action), ['task.cancelled'], 'the newest');
  const bad = await alice('audit', '--since', 'yesterday-ish');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--since.*yesterday-ish/);
});
