// A login configured by the repository's baton.toml ([auth.gemini], docs/config.md)
// rather than the environment: `baton auth login` run inside the project finds
// the issuer and client there, as the daemon that refreshes the login does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signInByHttp, startTestIssuer, TEST_CLIENT_ID } from '../../support/oidc.ts';
import { tempDir } from '../helpers/procs.ts';
import { issuerEnv, startLogin } from './login-helpers.ts';

test("baton auth login reads the issuer and client from the project's baton.toml when the environment names none", async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const { BATON_GEMINI_ISSUER: _issuer, GOOGLE_OAUTH_CLIENT_ID: _client, ...env } = issuerEnv(t, issuer);
  const repo = tempDir(t, 'baton-project-');
  execFileSync('git', ['init', '-q', repo]);
  writeFileSync(join(repo, 'baton.toml'), `[auth.gemini]\nissuer = "${issuer.issuer}"\nclient_id = "${TEST_CLIENT_ID}"\nproject = "from-the-file"\n`);

  const { running, url } = startLogin(env, ['--json'], repo);
  const address = new URL(await url);
  assert.equal(address.searchParams.get('client_id'), TEST_CLIENT_ID, 'the client named by the file');
  const answer = await signInByHttp(address.href);
  const done = await running.done;
  assert.equal(answer.status, 200, answer.body);
  assert.equal(done.code, 0, done.stderr);
  const stored = JSON.parse(readFileSync(join(env.BATON_CREDENTIALS_DIR, 'gemini.json'), 'utf8')) as { login: { issuer: string } };
  assert.equal(stored.login.issuer, issuer.issuer, 'signed in at the issuer the file names');
});
