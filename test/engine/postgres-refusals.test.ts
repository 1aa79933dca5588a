// A PostgreSQL store that cannot be used says why in one line with a stable
// code, names the database but never its password, and writes nothing:
// unreachable, wrong credentials, a schema from a newer baton, no
// connection slot free. The CLI says the same in one line and exits non-zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openCoordinator } from '../../src/index.ts';
import { migrations } from '../../src/stores/postgres/schema.ts';
import { adminQuery, queryAt, postgresPerFile } from '../../support/postgres.ts';
import { baton } from '../helpers/procs.ts';

const postgres = postgresPerFile('baton-pg-refusals-');
const dir = postgres.dir;

const SECRET = 'hunter2-not-shown';

function withPassword(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

async function refused(url: string, code: string, mention: RegExp): Promise<void> {
  await assert.rejects(openCoordinator({ url }), (error: Error & { code?: string }) => {
    assert.equal(error.code, code, error.message);
    assert.match(error.message, mention);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    assert.ok(!error.message.includes(SECRET), `no password: ${error.message}`);
    return true;
  });
}

test('an unreachable database: UNAVAILABLE naming host and port; the CLI says it in one line', async () => {
  const url = `postgres://baton:${SECRET}@127.0.0.1:1/baton`;
  await refused(url, 'UNAVAILABLE', /cannot reach PostgreSQL at baton@127\.0\.0\.1:1\/baton.*ECONNREFUSED/);
  const cli = await baton(['migrate', '--store', url], { cwd: dir });
  assert.equal(cli.code, 1);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.match(cli.stderr, /UNAVAILABLE|cannot reach PostgreSQL/);
  assert.ok(!cli.stderr.includes(SECRET));
});

test('wrong credentials: STORE_ERROR naming the user, never the password', async () => {
  const url = withPassword(await postgres.databases.fresh(), 'postgres', SECRET);
  await refused(url, 'STORE_ERROR', /refused the login.*28P01/);
});

test('a database of a newer schema version is refused, and left as it was', async () => {
  const url = await postgres.databases.fresh();
  await queryAt(url, 'INSERT INTO baton.schema_migrations (version) VALUES (99)');
  const before = await queryAt(url, 'SELECT seq FROM baton.event_head');
  await refused(url, 'STORE_ERROR', new RegExp(`schema version 99, newer than this baton knows \\(${migrations.length}\\)`));
  const cli = await baton(['migrate', '--store', url], { cwd: dir });
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /schema version 99/);
  assert.deepEqual((await queryAt(url, 'SELECT version FROM baton.schema_migrations ORDER BY version')).rows.map((r) => r.version), [...migrations.map((_, i) => i + 1), 99]);
  assert.deepEqual((await queryAt(url, 'SELECT seq FROM baton.event_head')).rows, before.rows, 'nothing written');
});

test('no connection slot free: UNAVAILABLE saying what to change', async () => {
  const url = await postgres.databases.fresh();
  await adminQuery(postgres.server, `CREATE ROLE limited LOGIN PASSWORD '${SECRET}' CONNECTION LIMIT 1`);
  await queryAt(url, 'GRANT ALL ON SCHEMA baton TO limited; GRANT ALL ON ALL TABLES IN SCHEMA baton TO limited');
  const limitedUrl = withPassword(url, 'limited', SECRET);
  const holder = new pg.Client({ connectionString: limitedUrl });
  await holder.connect();
  try {
    await refused(limitedUrl, 'UNAVAILABLE', /no connection free.*53300.*max_connections/);
  } finally {
    await holder.end();
  }
});

test('baton migrate applies the schema once and then says it is up to date; bad --store is a usage error', async () => {
  const url = await postgres.databases.empty();
  const first = await baton(['migrate', '--store', url, '--json'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { from: 0, to: migrations.length, target: `postgres@127.0.0.1:${postgres.server.port}${new URL(url).pathname}` });
  const again = await baton(['migrate'], { cwd: dir, env: { ...process.env, BATON_STORE: url } });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`schema ${migrations.length}, up to date`));
  const bad = await baton(['serve', '--store', 'mysql://x'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--store must be postgres:\/\//);
});
