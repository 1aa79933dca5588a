// baton auth login|status|token|logout gemini against a real OpenID Connect
// provider (oidc-provider on loopback: PKCE required, refresh tokens rotated,
// revocation on), driven through the CLI and the provider's own pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { baton, tempDir } from '../helpers/procs.ts';
import { signInByHttp, startTestIssuer } from '../../support/oidc.ts';
import { issuerEnv, loginThroughIssuer, startLogin } from './login-helpers.ts';

/** One HTTP request written by hand (what fetch would not send), and the whole answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

test('an OAuth login end to end: sign in, status without secrets, a working token, logout revokes', async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  const cwd = tempDir(t, 'baton-noproject-'); // outside any project: the CLI asks the stored login directly

  const login = await loginThroughIssuer(env, ['--json']);
  const said = JSON.parse(login.stdout) as { provider: string; mode: string; location: string; account: string; expiresAt: number };
  assert.equal(said.mode, 'oauth');
  assert.equal(said.location, 'file');
  assert.equal(said.account, 'alice', 'who signed in: the ID token names the account');
  const file = join(env.BATON_CREDENTIALS_DIR, 'gemini.json');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the login file is 0600');
  assert.equal(statSync(env.BATON_CREDENTIALS_DIR).mode & 0o777, 0o700, 'in a 0700 directory');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { login: { accessToken: string; refreshToken: string } };
  assert.ok(stored.login.refreshToken.length > 0, 'offline access: a refresh token was granted');

  const status = await baton(['auth', 'status', '--json'], { env, cwd });
  assert.equal(status.code, 0, status.stderr);
  assert.ok(!status.stdout.includes(stored.login.accessToken) && !status.stdout.includes(stored.login.refreshToken), 'status shows no secret');
  const [gemini] = JSON.parse(status.stdout) as Array<{ active: string; store: { login: { refreshable: boolean; issuer: string } } }>;
  assert.equal(gemini!.active, 'store');
  assert.equal(gemini!.store.login.refreshable, true);
  assert.equal(gemini!.store.login.issuer, issuer.issuer);

  const token = await baton(['auth', 'token', 'gemini'], { env, cwd });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${stored.login.accessToken}\n`, 'the token alone, for $(...)');
  assert.equal(await issuer.active(token.stdout.trim()), true, 'and the issuer takes it');
  // In a project with no daemon running, it starts none and makes nothing: a script's $(...) has no side effects.
  const repo = tempDir(t, 'baton-project-');
  execFileSync('git', ['init', '-q', repo]);
  const inProject = await baton(['auth', 'token', 'gemini'], { env: { ...env, BATON_NO_DAEMON: '' }, cwd: repo });
  assert.equal(inProject.code, 0, inProject.stderr);
  assert.equal(inProject.stdout, token.stdout);
  assert.equal(existsSync(join(repo, '.git', 'baton')), false, 'no state directory, no daemon');

  // Asking for more life than a token has does not refresh on every call: it counts up to half the lifetime.
  for (let i = 0; i < 3; i += 1) assert.equal((await baton(['auth', 'token', 'gemini', '--min-validity', '3600'], { env, cwd })).code, 0);
  assert.equal(issuer.refreshes, 0);

  const out = await baton(['auth', 'logout', 'gemini'], { env, cwd });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /deleted the gemini login from the file; revoked at the issuer/);
  assert.equal(issuer.revocations, 1);
  assert.equal(existsSync(file), false);
  assert.equal(await issuer.active(stored.login.accessToken), false, 'revoking the refresh token ended the grant');
  const after = await baton(['auth', 'token', 'gemini'], { env, cwd });
  assert.equal(after.code, 1);
  assert.match(after.stderr, /no gemini login in .* run 'baton auth login gemini'.*\[LOGIN_REQUIRED\]/);
});

test('login failures are clear and store nothing: wrong state, wrong issuer, no answer in time, a port taken, a refused refresh', async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  const file = join(env.BATON_CREDENTIALS_DIR, 'gemini.json');

  // A redirect someone else made (or a stale tab): the state is not this login's. It is turned away, and the
  // login goes on waiting; so is a request that is no browser's redirect (an absolute URL on the request line).
  {
    const { running, url } = startLogin(env, ['--timeout', '4']);
    const port = Number(new URL(new URL(await url).searchParams.get('redirect_uri')!).port);
    const page = await fetch(`http://127.0.0.1:${port}/oauth2callback?code=forged&state=not-the-one`);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /state does not match this login .* still waiting/);
    const odd = await rawRequest(port, 'GET http://evil.example/oauth2callback?state=x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    assert.match(odd, /^HTTP\/1\.1 404/);
    const done = await running.done;
    assert.equal(done.code, 1);
    assert.match(done.stderr, /warning: a sign-in answer whose state does not match this login .* was turned away; still waiting/);
    assert.match(done.stderr, /no sign-in arrived within 4 s; nothing was stored \[LOGIN_FAILED\]/);
    assert.equal(existsSync(file), false);
  }
  // A mix-up: the answer names another issuer (RFC 9207).
  {
    const { running, url } = startLogin(env);
    const address = await url;
    const answer = await signInByHttp(address, 'alice', (callback) => {
      const u = new URL(callback);
      u.searchParams.set('iss', 'https://evil.example');
      return u.href;
    });
    assert.equal(answer.status, 400);
    const done = await running.done;
    assert.equal(done.code, 1);
    assert.match(done.stderr, /comes from issuer "https:\/\/evil\.example", but this login is with http:\/\/127\.0\.0\.1:\d+; nothing was stored \[LOGIN_FAILED\]/);
    assert.equal(existsSync(file), false);
  }
  // Nobody signs in.
  {
    const { running } = startLogin(env, ['--timeout', '1']);
    const done = await running.done;
    assert.equal(done.code, 1);
    assert.match(done.stderr, /no sign-in arrived within 1 s; nothing was stored \[LOGIN_FAILED\]/);
    assert.equal(existsSync(file), false);
  }
  // The port asked for is taken.
  {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const { running } = startLogin(env, ['--port', String(port)]);
    const done = await running.done;
    assert.equal(done.code, 1);
    assert.match(done.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*\\[UNAVAILABLE\\]`));
    assert.equal(existsSync(file), false);
  }
  // A grant revoked at the issuer behind baton's back: the refresh is refused, the login is left as it was.
  {
    await loginThroughIssuer(env);
    const before = JSON.parse(readFileSync(file, 'utf8')) as { generation: number; login: { refreshToken: string; expiresAt: number } };
    const { client, configuration } = await import('../../src/credentials/oauth.ts');
    const config = await configuration({ issuer: issuer.issuer, clientId: env.GOOGLE_OAUTH_CLIENT_ID!, clientSecret: null });
    await client.tokenRevocation(config, before.login.refreshToken);
    const { LoginStore } = await import('../../src/credentials/login-store.ts');
    const store = new LoginStore(env.BATON_CREDENTIALS_DIR, 'gemini');
    const entry = (await store.read())!;
    await store.write({ ...entry.login, expiresAt: Date.now() - 1000 } as typeof entry.login, entry); // expired now
    const expired = readFileSync(file, 'utf8');
    const refused = await baton(['auth', 'token', 'gemini'], { env, cwd: tempDir(t, 'baton-noproject-') });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the gemini login was refused by http:\/\/127\.0\.0\.1:\d+ \(invalid_grant.*\): it was revoked or has expired; run 'baton auth login gemini' \[LOGIN_REQUIRED\]/);
    assert.ok(!refused.stderr.includes(before.login.refreshToken));
    assert.equal(readFileSync(file, 'utf8'), expired, 'nothing half-written: the login file is as it was');
  }
  // A logout the issuer cannot hear: the login is kept (the only handle to revoke the grant later), unless --force.
  {
    await issuer.close();
    const cwd = tempDir(t, 'baton-noproject-');
    const kept = await baton(['auth', 'logout', 'gemini'], { env, cwd });
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /the gemini login was NOT revoked \(.*\) and is kept, so that logout can be tried again; --force deletes it without revoking \[UNAVAILABLE\]/);
    assert.equal(existsSync(file), true);
    const forced = await baton(['auth', 'logout', 'gemini', '--force'], { env, cwd });
    assert.equal(forced.code, 1, 'still says it was not revoked');
    assert.match(forced.stdout, /deleted the gemini login from the file; NOT revoked/);
    assert.equal(existsSync(file), false);
  }
});

test('an API key: read from stdin, never echoed or shown; the environment comes first', async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  const cwd = tempDir(t, 'baton-noproject-');
  const key = 'AIzaTestKey-0123456789abcdef';
  const { startNode } = await import('../helpers/procs.ts');
  const { cli } = await import('../../support/paths.ts');
  const login = startNode(cli, ['auth', 'login', 'gemini', '--api-key'], { env, cwd, stdin: true });
  login.child.stdin!.end(`${key}\n`);
  const done = await login.done;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(!done.stdout.includes(key) && !done.stderr.includes(key));
  const token = await baton(['auth', 'token', 'gemini', '--json'], { env, cwd });
  assert.equal(token.code, 0, token.stderr);
  assert.deepEqual(JSON.parse(token.stdout), { provider: 'gemini', type: 'api-key', token: key, headers: { 'x-goog-api-key': key }, expiresAt: null, source: 'store', project: null, region: null });
  const status = await baton(['auth', 'status'], { env, cwd });
  assert.match(status.stdout, /gemini: stored login\n {2}stored in .* \(file, 0600\)\n {2}mode: API key/);
  assert.ok(!status.stdout.includes(key));
  const fromEnv = await baton(['auth', 'token', 'gemini', '--json'], { env: { ...env, GEMINI_API_KEY: 'from-the-environment' }, cwd });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal((JSON.parse(fromEnv.stdout) as { token: string; source: string }).source, 'environment');
  const empty = startNode(cli, ['auth', 'login', 'gemini', '--api-key'], { env, cwd, stdin: true });
  empty.child.stdin!.end('\n');
  const refused = await empty.done;
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /no API key was given .*\[INVALID_ARGUMENT\]/);
  const bad = await baton(['auth', 'login', 'nope'], { env, cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown provider "nope" \(known: gemini\)/);
  const inArgv = await baton(['auth', 'login', 'gemini', '--api-key', key], { env, cwd });
  assert.equal(inArgv.code, 2);
  assert.match(inArgv.stderr, /an API key is read from stdin, never from the command line/);
  assert.ok(!inArgv.stderr.includes(key), 'a key given as an argument is not repeated');
});

test("adopting gemini-cli's login: its file is read, never rewritten, and the login refreshes with the client named", async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  // A login made elsewhere stands in for gemini-cli's: its tokens, in gemini-cli's file format.
  const elsewhere = issuerEnv(t, issuer);
  await loginThroughIssuer(elsewhere);
  const made = JSON.parse(readFileSync(join(elsewhere.BATON_CREDENTIALS_DIR, 'gemini.json'), 'utf8')) as { login: { accessToken: string; refreshToken: string } };
  const env = issuerEnv(t, issuer);
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(env.HOME!, '.gemini'), { recursive: true });
  const cliFile = join(env.HOME!, '.gemini', 'oauth_creds.json');
  const geminiCli = JSON.stringify({ access_token: made.login.accessToken, refresh_token: made.login.refreshToken, scope: 'openid email offline_access', token_type: 'Bearer', expiry_date: Date.now() - 1000 });
  writeFileSync(cliFile, geminiCli, { mode: 0o600 });
  const cwd = tempDir(t, 'baton-noproject-');
  // gemini-cli signs in at Google: an adopted login goes to Google's issuer unless --issuer says otherwise (here, the test's).
  const adopted = await baton(['auth', 'login', 'gemini', '--from-gemini-cli', '--issuer', issuer.issuer], { env, cwd });
  assert.equal(adopted.code, 0, adopted.stderr);
  const token = await baton(['auth', 'token', 'gemini'], { env, cwd });
  assert.equal(token.code, 0, token.stderr);
  assert.notEqual(token.stdout.trim(), made.login.accessToken, 'expired, so refreshed');
  assert.equal(await issuer.active(token.stdout.trim()), true);
  assert.equal(readFileSync(cliFile, 'utf8'), geminiCli, "gemini-cli's file is untouched");
  // A plain logout forgets it here and does not revoke it (that would sign gemini-cli out too).
  const out = await baton(['auth', 'logout', 'gemini', '--json'], { env, cwd });
  assert.equal((JSON.parse(out.stdout) as { revocation: string }).revocation, 'skipped');
  assert.equal(issuer.revocations, 0);
});
