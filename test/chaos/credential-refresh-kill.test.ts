// kill -9 of the process that is refreshing a shared login, after its refresh
// request left and before the issuer read it (the issuer holds the request
// while the test kills its sender, then drops it unread). The login's lock is
// recovered from the dead holder (proof of death, no timeout), the next
// process re-reads the store, finds the old token still there, and refreshes:
// one refresh reaches the issuer, no refresh token is used twice, and every
// survivor gets the same working token. Three expiries in a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readLock } from '../../src/files/lock/lock.ts';
import { LoginStore } from '../../src/credentials/login-store.ts';
import type { OAuthLogin } from '../../src/credentials/stored-login.ts';
import { startTestIssuer } from '../../support/oidc.ts';
import { sleep, startTogether, tempDir } from '../helpers/procs.ts';
import { issuerEnv, loginThroughIssuer } from '../credentials/login-helpers.ts';

const PROCESSES = 16;
const agent = new URL('../../support/workers/credential-agent.ts', import.meta.url).pathname;

test('kill -9 of the refresher before the issuer answers: the lock comes back, one refresh, every survivor a working token', { timeout: 240_000 }, async (t) => {
  const issuer = await startTestIssuer();
  t.after(() => issuer.close());
  const env = issuerEnv(t, issuer);
  await loginThroughIssuer(env);
  const store = new LoginStore(env.BATON_CREDENTIALS_DIR, 'gemini');
  const db = `sqlite:${join(tempDir(t, 'baton-refresh-kill-'), 'baton.db')}`;
  for (let round = 0; round < 3; round += 1) {
    await store.locked(async () => {
      const entry = (await store.read())!;
      await store.write({ ...(entry.login as OAuthLogin), expiresAt: Date.now() - 1 }, entry);
    });
    const before = { refreshes: issuer.refreshes, refused: issuer.refreshErrors.length };
    let killed: number | undefined;
    const procs = await startTogether(PROCESSES, agent, [db], { env });
    const byPid = new Map(procs.map((p) => [p.child.pid!, p]));
    issuer.beforeTokenRequest = async () => {
      issuer.beforeTokenRequest = undefined; // the first request only
      const holder = (await readLock(store.path)).holders[0]?.record.pid;
      assert.ok(holder !== undefined && byPid.has(holder), `the refresher (${holder}) holds the login's lock`);
      killed = holder;
      byPid.get(holder)!.child.kill('SIGKILL');
      await byPid.get(holder)!.done;
      await sleep(50); // its connection's end reaches the issuer
    };
    const finished = await Promise.all(procs.map((p) => p.done));
    const survivors = finished.filter((f) => f.signal !== 'SIGKILL');
    assert.notEqual(killed, undefined, 'a refresher was killed');
    assert.equal(survivors.length, PROCESSES - 1);
    const answers = survivors.map((f) => JSON.parse(f.stdout.trim().split('\n').at(-1)!) as { ok: boolean; token?: string; code?: string; message?: string });
    assert.deepEqual(answers.filter((a) => !a.ok), [], 'every survivor got a credential');
    const tokens = new Set(answers.map((a) => a.token!));
    assert.equal(tokens.size, 1, 'all adopted one token');
    assert.equal(await issuer.active([...tokens][0]!), true, 'and it works at the issuer');
    assert.equal(issuer.refreshes - before.refreshes, 1, 'one refresh reached the issuer (the killed one was dropped unread)');
    assert.equal(issuer.refreshErrors.length - before.refused, 0, 'no refresh token was used twice');
    t.diagnostic(`round ${round + 1}: killed ${killed}; 1 refresh; ${survivors.length} survivors with one working token`);
  }
});
