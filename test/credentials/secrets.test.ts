// Secrets never leave where they belong: after a daemon on TCP has handed out
// an OAuth credential, been refused a bad token and a bad signature, and seen
// a refresh fail, none of the access token, the refresh token, an API token or
// the HMAC key appears in its logs, its stderr, the event log, `status` (the
// API's and the CLI's), or what the dashboard reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { LoginStore } from '../../src/credentials/login-store.ts';
import type { OAuthLogin } from '../../src/credentials/stored-login.ts';
import { startDaemon } from '../../support/daemon.ts';
import { startTestIssuer } from '../../support/oidc.ts';
import { baton, tempDir } from '../helpers/procs.ts';
import { issuerEnv, loginThroughIssuer } from './login-helpers.ts';

test('no secret in logs, errors, events, status or the dashboard feed', async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  await loginThroughIssuer(env);
  const store = new LoginStore(env.BATON_CREDENTIALS_DIR, 'gemini');
  const first = (await store.read())!.login as OAuthLogin;

  const project = tempDir(t, 'baton-secrets-');
  const stateDir = join(project, '.baton');
  const created = await baton(['auth', 'token', 'create', 'agent', '--json', '--state-dir', stateDir], { env });
  assert.equal(created.code, 0, created.stderr);
  const apiToken = (JSON.parse(created.stdout) as { token: string }).token;
  const daemon = await startDaemon(stateDir, { cwd: project, args: ['--listen', '127.0.0.1:0'], env: env as Record<string, string> });
  t.after(() => daemon.stop());
  const [host, port] = [daemon.record.listen!.split(':')[0]!, Number(daemon.record.listen!.split(':')[1])];
  const hmacKey = readFileSync(join(stateDir, 'hmac.key'), 'utf8').trim();

  const c = new RemoteCoordinator({ host, port, token: apiToken });
  t.after(() => c.close());
  const handed = await c.credential('gemini');
  assert.equal(handed.token, first.accessToken);
  // Refused: a token with a wrong secret, a wrong signature.
  const wrong = `${apiToken.slice(0, -4)}AAAA`;
  await assert.rejects(new RemoteCoordinator({ host, port, token: wrong, retryForMs: 0 }).status(), (e: Error) => !e.message.includes(wrong));
  await assert.rejects(new RemoteCoordinator({ host, port, hmacSecret: 'ab'.repeat(32), retryForMs: 0 }).status(), (e: Error) => !e.message.includes('ab'.repeat(32)));
  // A refresh that fails: the grant revoked behind baton's back, the token expired.
  const { client, configuration } = await import('../../src/credentials/oauth.ts');
  await client.tokenRevocation(await configuration({ issuer: issuer.issuer, clientId: env.GOOGLE_OAUTH_CLIENT_ID!, clientSecret: null }), first.refreshToken!);
  await store.locked(async () => {
    const entry = (await store.read())!;
    await store.write({ ...(entry.login as OAuthLogin), expiresAt: Date.now() - 1 }, entry);
  });
  await assert.rejects(c.credential('gemini'), (e: Error & { code?: string }) => e.code === 'LOGIN_REQUIRED' && !e.message.includes(first.refreshToken!));

  const secrets = { 'access token': first.accessToken, 'refresh token': first.refreshToken!, 'API token': apiToken, 'HMAC key': hmacKey };
  const events = JSON.stringify(await c.events({ types: ['credential.', 'auth.', 'daemon.'] }));
  assert.match(events, /credential\.failed/);
  const seen: Record<string, string> = {
    events,
    'status (API)': JSON.stringify(await c.status()),
    'status (CLI)': (await baton(['status', '--json', '--state-dir', stateDir], { env: { ...env, BATON_NO_DAEMON: '' }, cwd: project })).stdout,
    'auth status (CLI)': (await baton(['auth', 'status', '--json'], { env, cwd: project })).stdout,
    'daemon stderr': daemon.stderr(),
    logs: readdirSync(join(stateDir, 'logs')).map((f) => readFileSync(join(stateDir, 'logs', f), 'utf8')).join('\n'),
  };
  for (const [where, text] of Object.entries(seen)) {
    if (where !== 'daemon stderr') assert.ok(text.length > 0, `${where} was read`); // stderr is empty when all goes well
    for (const [what, secret] of Object.entries(secrets)) assert.ok(!text.includes(secret), `the ${what} appears in ${where}`);
  }
});
