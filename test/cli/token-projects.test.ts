// API tokens scoped to projects: tokens.json's version 3 (written only when a
// token needs it), what the daemon's authenticator makes of such a token, the
// checks of server/project-access.ts, `baton auth token create --project|--admin`,
// and `baton project` against a real daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteCoordinator } from '../../src/client/remote.ts';
import { isBatonError } from '../../src/errors.ts';
import { ensureHmacSecret } from '../../src/project/hmac-key.ts';
import { createToken, listTokens, readTokenHashes, revokeToken } from '../../src/project/tokens.ts';
import { signRequest } from '../../src/protocol/signing.ts';
import { Authenticator, type AuthResult } from '../../src/server/auth.ts';
import { projectAllowed, refuseProject, requireAdmin } from '../../src/server/project-access.ts';
import { startDaemon } from '../../support/daemon.ts';
import { json, ok, refused } from '../helpers/cli-answers.ts';
import { baton, tempDir } from '../helpers/procs.ts';

const HASH = 'ab'.repeat(32);
const versionOf = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as { version: number }).version;
const bearer = (auth: Authenticator, token: string): Promise<AuthResult> => auth.authenticate({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(0) });

function deniedWith(pattern: RegExp, details?: Record<string, unknown>): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isBatonError(error, 'PERMISSION_DENIED'), `want PERMISSION_DENIED, got ${String(error)}`);
    assert.match(error.message, pattern);
    if (details !== undefined) assert.deepEqual(error.details, details);
    return true;
  };
}

test('tokens.json: version 3 only while a token has projects or admin; StoredToken and TokenInfo carry them', async (t) => {
  const dir = join(tempDir(t, 'baton-token-projects-'), 'state');
  const plain = await createToken(dir, 'plain');
  assert.equal(versionOf(dir), 1, 'a full token with no projects is written as before');
  assert.equal(plain.projects, null);
  assert.equal(plain.admin, false);

  const scoped = await createToken(dir, 'scoped', { projects: ['alpha', 'beta', 'alpha'] });
  assert.deepEqual(scoped.projects, ['alpha', 'beta'], 'each name once, in the order given');
  assert.equal(versionOf(dir), 3);
  const record = (JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as { tokens: Array<Record<string, unknown>> }).tokens;
  assert.deepEqual(record[0]!.projects, undefined, 'the older token is written as before');
  assert.deepEqual(record[1]!.projects, ['alpha', 'beta']);
  assert.equal('admin' in record[1]!, false, 'admin is written only when true');

  const stored = readTokenHashes(join(dir, 'tokens.json'));
  assert.deepEqual(stored.get(plain.id)!.projects, null);
  assert.deepEqual(stored.get(scoped.id)!.projects, ['alpha', 'beta']);
  assert.equal(stored.get(scoped.id)!.admin, false);

  assert.ok(await revokeToken(dir, scoped.id));
  assert.equal(versionOf(dir), 1, 'with the scoped token gone, the file goes back to the oldest version that holds it');
  const narrow = await createToken(dir, 'narrow', { scopes: ['tasks'] });
  assert.equal(versionOf(dir), 2, 'scopes alone still need only version 2');
  const admin = await createToken(dir, 'root', { admin: true, scopes: ['read'] });
  assert.equal(versionOf(dir), 3);
  const listed = await listTokens(dir);
  assert.deepEqual(
    listed.map((x) => [x.name, x.projects, x.admin, x.scopes]),
    [
      ['plain', null, false, ['full']],
      ['narrow', null, false, ['tasks']],
      ['root', null, true, ['read']],
    ],
  );

  // What the authenticator answers for each.
  const auth = new Authenticator({ stateDir: dir });
  assert.deepEqual(await bearer(auth, plain.token), { principal: `token:${plain.id}` }, 'a token from before projects: no projects, not admin');
  assert.deepEqual(await bearer(auth, narrow.token), { principal: `token:${narrow.id}`, scopes: ['tasks'] });
  assert.deepEqual(await bearer(auth, admin.token), { principal: `token:${admin.id}`, readOnly: true, admin: true });
  const two = await createToken(dir, 'two', { projects: ['alpha', 'gamma'], readOnly: true });
  assert.deepEqual(await bearer(auth, two.token), { principal: `token:${two.id}`, readOnly: true, projects: ['alpha', 'gamma'] });

  // Bad names and contradictions are refused, and nothing is written.
  const before = readFileSync(join(dir, 'tokens.json'), 'utf8');
  for (const projects of [['Alpha'], ['-x'], ['a_b'], ['x'.repeat(41)], []]) {
    await assert.rejects(createToken(dir, 'bad', { projects }), (error: unknown) => {
      assert.ok(isBatonError(error, 'INVALID_ARGUMENT'), String(error));
      if (projects.length > 0) assert.ok(error.message.includes(JSON.stringify(projects[0])), `names the value: ${error.message}`);
      return true;
    });
  }
  await assert.rejects(createToken(dir, 'both', { admin: true, projects: ['alpha'] }), /admin or projects, not both/);
  assert.equal(readFileSync(join(dir, 'tokens.json'), 'utf8'), before);
});

test('tokens.json: files of versions 1 and 2 are still read; a bad projects entry or an unknown version is refused whole', async (t) => {
  const dir = join(tempDir(t, 'baton-token-projects-'), 'state');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'tokens.json');
  const write = (doc: unknown): void => writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });

  write({ version: 1, tokens: [{ id: '0000000a', name: 'old', hash: HASH, createdAt: 1, readOnly: true }] });
  assert.deepEqual(readTokenHashes(file).get('0000000a'), { hash: Buffer.from(HASH, 'hex'), scopes: ['read'], expiresAt: null, projects: null, admin: false });
  write({ version: 2, tokens: [{ id: '0000000b', name: 'v2', hash: HASH, createdAt: 1, scopes: ['tasks'], expiresAt: 5 }] });
  assert.deepEqual(readTokenHashes(file).get('0000000b'), { hash: Buffer.from(HASH, 'hex'), scopes: ['tasks'], expiresAt: 5, projects: null, admin: false });
  assert.deepEqual((await listTokens(dir)).map((x) => [x.id, x.projects, x.admin]), [['0000000b', null, false]]);

  for (const [why, doc] of [
    ['a project name out of the pattern', { version: 3, tokens: [{ id: '0000000c', name: 'x', hash: HASH, createdAt: 1, projects: ['Bad Name'] }] }],
    ['an empty project list', { version: 3, tokens: [{ id: '0000000c', name: 'x', hash: HASH, createdAt: 1, projects: [] }] }],
    ['a non-boolean admin', { version: 3, tokens: [{ id: '0000000c', name: 'x', hash: HASH, createdAt: 1, admin: 'yes' }] }],
    ['a version from the future', { version: 4, tokens: [] }],
  ] as const) {
    write(doc);
    assert.throws(() => readTokenHashes(file), (error: unknown) => isBatonError(error, 'CORRUPT_FILE'), why);
  }
});

test('project access: a scoped token is refused in another project, naming it; admins, hmac and local reach every project', async (t) => {
  const scoped: AuthResult = { principal: 'token:ab12cd34', projects: ['alpha'] };
  assert.equal(projectAllowed(scoped, 'alpha', false), true);
  assert.equal(projectAllowed(scoped, 'beta', false), false);
  assert.equal(projectAllowed(scoped, 'home', true), false, 'a token scoped to projects reaches the default one only if it names it');
  assert.throws(
    () => refuseProject(scoped, 'beta', false),
    deniedWith(/^token:ab12cd34 is scoped to project\(s\) alpha: it cannot reach project beta$/, { principal: 'token:ab12cd34', project: 'beta', projects: ['alpha'] }),
  );
  refuseProject(scoped, 'alpha', false);

  const old: AuthResult = { principal: 'token:00000001' };
  assert.equal(projectAllowed(old, 'home', true), true, 'a token from before projects reaches the default project');
  assert.throws(() => refuseProject(old, 'alpha', false), deniedWith(/^token:00000001 reaches the default project only: it cannot reach project alpha$/, { principal: 'token:00000001', project: 'alpha', projects: null }));
  const session: AuthResult = { principal: 'ui:s1', readOnly: true };
  assert.equal(projectAllowed(session, 'home', true), true);
  assert.throws(() => refuseProject(session, 'alpha', false), deniedWith(/^ui:s1 is a dashboard session of the default project: it cannot reach project alpha$/));
  assert.throws(() => requireAdmin(scoped, 'create a project'), deniedWith(/^token:ab12cd34 is not an admin token: it cannot create a project$/));
  assert.throws(() => requireAdmin(session, 'archive a project'), deniedWith(/^ui:s1 is not an admin token/));

  // The admins, as the authenticator makes them: an admin token, and a request signed with the state directory's key.
  const dir = join(tempDir(t, 'baton-token-projects-'), 'state');
  const adminToken = await createToken(dir, 'root', { admin: true });
  const auth = new Authenticator({ stateDir: dir });
  const signedBy = await auth.authenticate({ method: 'GET', path: '/v1/status', headers: signRequest(await ensureHmacSecret(dir), 'GET', '/v1/status', ''), body: Buffer.alloc(0) });
  assert.equal(signedBy.principal, 'hmac');
  const local: AuthResult = { principal: 'local', admin: true }; // what server/api.ts gives the unix socket
  for (const who of [await bearer(auth, adminToken.token), signedBy, local]) {
    for (const [project, isDefault] of [['home', true], ['alpha', false], ['beta', false]] as const) assert.equal(projectAllowed(who, project, isDefault), true, `${who.principal} in ${project}`);
    requireAdmin(who, 'create a project');
  }
});

test('baton auth token create --project/--admin and list; bad names refused before anything is made', async (t) => {
  const home = join(tempDir(t, 'baton-token-projects-cli-'), 'state');
  const env = { BATON_HOME: home };

  refused(await baton(['auth', 'token', 'create', 'x', '--project', 'Beta'], { env }), 2, /"Beta".*\[INVALID_ARGUMENT\]$/);
  assert.equal(existsSync(home), false, 'a refused name makes no state directory');
  refused(await baton(['auth', 'token', 'create', 'x', '--admin', '--project', 'alpha'], { env }), 2, /--admin reaches every project: give --admin or --project, not both/);

  const scoped = json<{ id: string; token: string; projects: string[] | null; admin: boolean }>(await baton(['auth', 'token', 'create', 'ci', '--project', 'alpha', '--project', 'beta', '--json'], { env }));
  assert.deepEqual([scoped.projects, scoped.admin], [['alpha', 'beta'], false]);
  const admin = json<{ id: string; projects: string[] | null; admin: boolean }>(await baton(['auth', 'token', 'create', 'ops', '--admin', '--json'], { env }));
  assert.deepEqual([admin.projects, admin.admin], [null, true]);
  const plainRun = await baton(['auth', 'token', 'create', 'plain'], { env });
  assert.match(ok(plainRun), /^baton_/);
  assert.match(plainRun.stderr, /projects \(default\)/);
  assert.equal(versionOf(home), 3);

  const lines = ok(await baton(['auth', 'token', 'list'], { env })).trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+NAME\s+SCOPES\s+PROJECTS\s+CREATED\s+EXPIRES$/);
  assert.match(lines[1]!, new RegExp(`^${scoped.id}\\s+ci\\s+full\\s+alpha,beta\\s+\\d{4}-`));
  assert.match(lines[2]!, new RegExp(`^${admin.id}\\s+ops\\s+full\\s+admin \\(every project\\)\\s+\\d{4}-`));
  assert.match(lines[3]!, /\s+plain\s+full\s+\(default\)\s+\d{4}-/);
  const listed = json<Array<{ name: string; projects: string[] | null; admin: boolean }>>(await baton(['auth', 'token', 'list', '--json'], { env }));
  assert.deepEqual(
    listed.map((x) => [x.name, x.projects, x.admin]),
    [
      ['ci', ['alpha', 'beta'], false],
      ['ops', null, true],
      ['plain', null, false],
    ],
  );
  // The daemon's side reads what the CLI wrote.
  assert.deepEqual(await bearer(new Authenticator({ stateDir: home }), scoped.token), { principal: `token:${scoped.id}`, projects: ['alpha', 'beta'] });
});

test('baton project create, list, show, archive through a real daemon', async (t) => {
  const root = tempDir(t, 'baton-project-cli-');
  const home = join(root, 'state');
  const env = { BATON_HOME: home, BATON_NO_DAEMON: '' };
  const daemon = await startDaemon(home, { cwd: root });
  t.after(() => daemon.stop());

  refused(await baton(['project', 'create', 'Not_A_Name'], { env }), 2, /"Not_A_Name".*\[INVALID_ARGUMENT\]$/);
  const created = json<{ name: string; home: boolean; createdAt: number; archivedAt: number | null; store: string }>(await baton(['project', 'create', 'alpha', '--json'], { env }));
  assert.deepEqual([created.name, created.home, created.archivedAt], ['alpha', false, null]);
  assert.match(ok(await baton(['project', 'create', 'beta'], { env })), /^created project beta \(.+\)\n$/);

  const listed = json<{ projects: Array<{ name: string; home: boolean; archivedAt: number | null }> }>(await baton(['project', 'list', '--json'], { env }));
  const byName = new Map(listed.projects.map((p) => [p.name, p]));
  assert.ok(byName.has('alpha') && byName.has('beta'), JSON.stringify(listed));
  assert.equal(listed.projects.filter((p) => p.home).length, 1, 'exactly one default project');
  const lines = ok(await baton(['project', 'list'], { env })).trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+DEFAULT\s+CREATED\s+ARCHIVED\s+STORE$/);
  assert.equal(lines.length, listed.projects.length + 1, 'one line per project');
  assert.ok(lines.some((l) => /^\S+\s+\*\s+\d{4}-/.test(l)), 'the default project is marked');

  assert.match(ok(await baton(['project', 'show', 'alpha'], { env })), /^project: +alpha\ndefault: +no\ncreated: .*\nstate: +active\nstore: .*\nsessions: +0\nleases: +0\ntasks: +ready 0, /);
  const archived = json<{ name: string; archivedAt: number | null }>(await baton(['project', 'archive', 'alpha', '--json'], { env }));
  assert.equal(archived.name, 'alpha');
  assert.ok(archived.archivedAt !== null);
  const after = json<{ projects: Array<{ name: string; archivedAt: number | null }> }>(await baton(['project', 'list', '--json'], { env }));
  assert.notEqual(after.projects.find((p) => p.name === 'alpha')?.archivedAt ?? null, null, 'archived, still listed');
});

test('over TCP: a token scoped to alpha works in alpha and is refused in beta and the default project; an admin token reaches all', async (t) => {
  const root = tempDir(t, 'baton-project-tcp-');
  const home = join(root, 'state');
  const env = { BATON_HOME: home, BATON_NO_DAEMON: '' };
  const daemon = await startDaemon(home, { cwd: root, args: ['--listen', '127.0.0.1:0'] });
  t.after(() => daemon.stop());
  const listen = daemon.record.listen!;
  const at = { host: listen.slice(0, listen.lastIndexOf(':')), port: Number(listen.slice(listen.lastIndexOf(':') + 1)) };
  // The socket is this machine's user: an admin.
  for (const name of ['alpha', 'beta']) ok(await baton(['project', 'create', name], { env }));
  const scoped = json<{ id: string; token: string }>(await baton(['auth', 'token', 'create', 'ci', '--project', 'alpha', '--json'], { env }));
  const plain = json<{ id: string; token: string }>(await baton(['auth', 'token', 'create', 'old', '--json'], { env }));
  const admin = json<{ id: string; token: string }>(await baton(['auth', 'token', 'create', 'ops', '--admin', '--json'], { env }));
  const client = (token: string, project?: string): RemoteCoordinator => {
    const c = new RemoteCoordinator({ ...at, token, ...(project === undefined ? {} : { project }) });
    t.after(() => c.close());
    return c;
  };

  const inAlpha = await client(scoped.token, 'alpha').addTask({ title: 'same title' });
  assert.equal(inAlpha.title, 'same title');
  const reach = new RegExp(`^token:${scoped.id} is scoped to project\\(s\\) alpha: it cannot reach project `);
  await assert.rejects(client(scoped.token, 'beta').addTask({ title: 'same title' }), deniedWith(new RegExp(reach.source + 'beta$'), { principal: `token:${scoped.id}`, project: 'beta', projects: ['alpha'], status: 403 }));
  await assert.rejects(client(scoped.token).listTasks(), deniedWith(reach), 'the default project is not among its projects');
  assert.deepEqual((await client(scoped.token, 'alpha').daemonOperation('projectList', {})).projects.map((p) => p.name), ['alpha'], 'it lists only what it reaches');
  await assert.rejects(client(scoped.token, 'alpha').daemonOperation('projectCreate', { name: 'gamma' }), deniedWith(new RegExp(`^token:${scoped.id} is not an admin token: it cannot `)));

  // A token from before projects: the default project, nothing else.
  assert.equal((await client(plain.token).addTask({ title: 'same title' })).title, 'same title');
  await assert.rejects(client(plain.token, 'alpha').listTasks(), deniedWith(new RegExp(`^token:${plain.id} reaches the default project only: it cannot reach project alpha$`)));

  // The admin token reaches every project, and sees alpha's task only in alpha.
  const titles = async (project?: string): Promise<string[]> => (await client(admin.token, project).listTasks()).map((x) => x.title);
  assert.deepEqual(await titles('alpha'), ['same title']);
  assert.deepEqual(await titles('beta'), []);
  assert.deepEqual(await titles(), ['same title']);
  assert.equal((await client(admin.token).daemonOperation('projectCreate', { name: 'gamma' })).name, 'gamma');
  const all = (await client(admin.token).daemonOperation('projectList', {})).projects;
  assert.deepEqual(all.filter((p) => !p.home).map((p) => p.name).sort(), ['alpha', 'beta', 'gamma']);
  assert.equal(all.filter((p) => p.home).length, 1);
});
