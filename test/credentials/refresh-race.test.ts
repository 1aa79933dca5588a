// The refresh race that logs users of other agent CLIs out: 16 processes ask
// for the credential at the moment it expires. The issuer rotates refresh
// tokens and revokes the whole grant when a used one comes back, as real
// issuers do. With baton, exactly one refresh reaches the issuer per expiry and
// every process gets the same working token: in library mode (each process
// refreshes for itself, under the login's lock) and through a daemon (the
// broker). Without the single flight (BATON_UNSAFE_NO_REFRESH_LOCK=1), the
// same test sees several refreshes, invalid_grant, and dead tokens.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LoginStore } from '../../src/credentials/login-store.ts';
import type { OAuthLogin } from '../../src/credentials/stored-login.ts';
import { startDaemon } from '../../support/daemon.ts';
import { startTestIssuer, type TestIssuer } from '../../support/oidc.ts';
import { startTogether, tempDir } from '../helpers/procs.ts';
import { issuerEnv, loginThroughIssuer } from './login-helpers.ts';

const PROCESSES = 16;
const agent = new URL('../../support/workers/credential-agent.ts', import.meta.url).pathname;

/** Marks the stored access token expired now (it is still good at the issuer): the moment every process wants a new one. */
async function expireNow(dir: string): Promise<string> {
  const store = new LoginStore(dir, 'gemini');
  return store.locked(async () => {
    const entry = (await store.read())!;
    const login = entry.login as OAuthLogin;
    await store.write({ ...login, expiresAt: Date.now() - 1 }, entry);
    return login.accessToken;
  });
}

interface Outcome {
  refreshes: number;
  errors: string[];
  answers: Array<{ ok: boolean; token?: string; code?: string }>;
  live: number;
}

async function race(t: TestContext, issuer: TestIssuer, env: NodeJS.ProcessEnv, where: string): Promise<Outcome> {
  const old = await expireNow(env.BATON_CREDENTIALS_DIR!);
  const before = { refreshes: issuer.refreshes, errors: issuer.refreshErrors.length };
  const procs = await startTogether(PROCESSES, agent, [where], { env });
  const answers = await Promise.all(
    procs.map(async (p) => {
      const done = await p.done;
      const last = done.stdout.trim().split('\n').at(-1)!;
      assert.equal(done.code, 0, done.stderr);
      return JSON.parse(last) as { ok: boolean; token?: string; code?: string };
    }),
  );
  const tokens = answers.map((a) => a.token).filter((x): x is string => x !== undefined);
  const live = (await Promise.all(tokens.map((tok) => issuer.active(tok)))).filter(Boolean).length;
  t.diagnostic(`${where.split(':')[0]}: ${issuer.refreshes - before.refreshes} refresh(es), ${issuer.refreshErrors.length - before.errors} refused, ${live}/${PROCESSES} live tokens`);
  assert.ok(!tokens.includes(old) || issuer.refreshes - before.refreshes === 0, 'no process was handed the expired token');
  return { refreshes: issuer.refreshes - before.refreshes, errors: issuer.refreshErrors.slice(before.errors), answers, live };
}

function assertOneRefreshForAll(outcome: Outcome): void {
  assert.equal(outcome.refreshes, 1, 'exactly one refresh reached the issuer');
  assert.deepEqual(outcome.errors, [], 'no refresh was refused (no invalid_grant)');
  assert.deepEqual(
    outcome.answers.filter((a) => !a.ok),
    [],
    'every process got a credential',
  );
  assert.equal(new Set(outcome.answers.map((a) => a.token)).size, 1, 'all adopted the one new token');
  assert.equal(outcome.live, PROCESSES, 'and it works at the issuer');
}

async function loggedIn(t: TestContext): Promise<{ issuer: TestIssuer; env: NodeJS.ProcessEnv }> {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  await loginThroughIssuer(env);
  return { issuer, env };
}

test('library mode: 16 processes at expiry, one refresh per expiry, every token good (3 expiries)', async (t) => {
  const { issuer, env } = await loggedIn(t);
  const db = `sqlite:${join(tempDir(t, 'baton-race-db-'), 'baton.db')}`;
  for (let round = 0; round < 3; round += 1) assertOneRefreshForAll(await race(t, issuer, env, db));
});

test('through a daemon: 16 clients at expiry, one refresh per expiry; clients never see the refresh token', async (t) => {
  const { issuer, env } = await loggedIn(t);
  const stateDir = tempDir(t, 'baton-race-daemon-');
  const daemon = await startDaemon(stateDir, { env: env as Record<string, string> });
  t.after(() => daemon.stop());
  for (let round = 0; round < 3; round += 1) assertOneRefreshForAll(await race(t, issuer, env, `socket:${daemon.record.socket}`));
  const client = daemon.client();
  t.after(() => client.close());
  const credential = await client.credential('gemini');
  const { refreshToken } = (await new LoginStore(env.BATON_CREDENTIALS_DIR!, 'gemini').read())!.login as OAuthLogin;
  assert.ok(!JSON.stringify(credential).includes(refreshToken!), 'the answer holds the access token only');
  const events = await client.events({ types: ['credential.'] });
  assert.equal(events.filter((e) => e.type === 'credential.refreshed').length, 3, 'one credential.refreshed per expiry');
  assert.ok(!JSON.stringify(events).includes(refreshToken!) && !JSON.stringify(events).includes(credential.token), 'events carry no secret');
});

test('without the single flight the same race fails: several refreshes, invalid_grant, a revoked grant', async (t) => {
  const { issuer, env } = await loggedIn(t);
  const db = `sqlite:${join(tempDir(t, 'baton-race-db-'), 'baton.db')}`;
  const unsafe = { ...env, BATON_UNSAFE_NO_REFRESH_LOCK: '1' };
  // The processes collide on the first expiry almost always; a few tries make it certain on a slow machine.
  let outcome: Outcome | undefined;
  for (let round = 0; round < 5; round += 1) {
    outcome = await race(t, issuer, unsafe, db);
    if (outcome.refreshes + outcome.errors.length > 1) break;
  }
  assert.ok(outcome!.refreshes + outcome!.errors.length > 1, 'more than one refresh reached the issuer');
  assert.ok(outcome!.errors.includes('invalid_grant'), 'a used refresh token came back: invalid_grant');
  assert.ok(outcome!.live < PROCESSES, 'and processes were left with dead tokens or none (the grant was revoked)');
});
