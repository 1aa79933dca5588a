// npm run bench -- auth: handing out a cached provider credential, and how
// many refreshes reach the issuer when 16 processes want one at its expiry.
// The issuer is a real OpenID Connect provider on loopback (support/oidc.ts),
// with refresh-token rotation on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserLogin } from '../src/credentials/browser-login.ts';
import { LoginStore } from '../src/credentials/login-store.ts';
import { saveLogin } from '../src/credentials/logins.ts';
import { oauthSettings } from '../src/credentials/providers.ts';
import type { OAuthLogin } from '../src/credentials/stored-login.ts';
import { openCoordinator } from '../src/index.ts';
import { TEST_CLIENT_ID, issuerEnvironment, signInByHttp, startTestIssuer, type TestIssuer } from '../support/oidc.ts';
import { root } from '../support/paths.ts';
import { startBatonDaemon } from './daemon.ts';
import type { SectionContext } from './postgres.ts';
import { goTogether, worker } from './procs.ts';

const AGENT = '../../support/workers/credential-agent.ts';
const PROCESSES = 16;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Calls per second of `fn` over `ms`. */
async function rate(ms: number, fn: () => unknown): Promise<number> {
  let n = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await fn();
    n += 1;
  }
  return (n / ms) * 1000;
}

async function refreshesPerExpiry(issuer: TestIssuer, dir: string, where: string): Promise<{ refreshes: number; refused: number; failed: number }> {
  const store = new LoginStore(dir, 'gemini');
  await store.locked(async () => {
    const entry = (await store.read())!;
    await store.write({ ...(entry.login as OAuthLogin), expiresAt: Date.now() - 1 }, entry);
  });
  const before = { refreshes: issuer.refreshes, refused: issuer.refreshErrors.length };
  const workers = await goTogether(Array.from({ length: PROCESSES }, () => worker(AGENT, [where])));
  const answers = await Promise.all(workers.map(async (w) => JSON.parse(await w.line('{')) as { ok: boolean }));
  return { refreshes: issuer.refreshes - before.refreshes, refused: issuer.refreshErrors.length - before.refused, failed: answers.filter((a) => !a.ok).length };
}

export async function authSection(ctx: SectionContext): Promise<void> {
  const { check, work, trials, ms } = ctx;
  console.log('\n16. Provider credentials (a real OpenID Connect issuer on loopback, refresh-token rotation on)');
  const issuer = await startTestIssuer();
  const dir = join(work, 'credentials');
  const saved = { ...process.env };
  Object.assign(process.env, issuerEnvironment(issuer.issuer, dir));
  const daemon = await startBatonDaemon(work, 'auth');
  try {
    const settings = oauthSettings('gemini');
    const login = await browserLogin({ provider: 'gemini', settings: { ...settings, clientId: TEST_CLIENT_ID }, onAuthorizationUrl: (url) => void signInByHttp(url) });
    await saveLogin(new LoginStore(dir, 'gemini'), login, 'file');
    const file = join(dir, 'gemini.json');
    const socket = `socket:${daemon.record.socket!}`;
    const db = join(work, 'auth-embedded');
    mkdirSync(db, { recursive: true });
    const embedded = await openCoordinator({ url: `sqlite:${join(db, 'baton.db')}` });
    const remote = daemon.client();
    try {
      // (a) a cached credential, in one process: through the daemon, embedded, and a plain read of the file.
      const through: number[] = [];
      const trip: number[] = [];
      const local: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < trials; i += 1) {
        through.push(await rate(ms, () => remote.credential('gemini')));
        trip.push(await rate(ms, () => remote.getLease('bench/no-such-lease')));
        local.push(await rate(ms, () => embedded.credential('gemini')));
        plain.push(await rate(ms, () => JSON.parse(readFileSync(file, 'utf8')) as unknown));
      }
      const [d, g, e, p] = [median(through), median(trip), median(local), median(plain)];
      console.log(`   c.credential('gemini'), cached, one process (medians of ${trials} alternating trials): through the daemon ${d.toFixed(0)}/s, embedded ${e.toFixed(0)}/s; anchor, a plain read + JSON.parse of the file ${p.toFixed(0)}/s`);
      console.log(`   ratios: daemon / plain read ${(d / p).toFixed(3)}x; embedded / plain read ${(e / p).toFixed(2)}x (each call reads the small file, and parses it only when it changed)`);
      console.log(`   where the daemon's time goes: the round trip. Its cheapest read, getLease, ${g.toFixed(0)}/s: credential / getLease ${(d / g).toFixed(2)}x`);
      // The CLI, as a script calls it: one process per token, the built command as installed (npm install builds dist/).
      const cli = join(root, 'dist/cli/main.js');
      const cliRuns: number[] = [];
      const readRuns: number[] = [];
      for (let i = 0; i < trials; i += 1) {
        cliRuns.push(await rate(Math.min(ms, 3000), () => execFileSync(process.execPath, [cli, 'auth', 'token', 'gemini'], { cwd: join(work, 'auth') })));
        readRuns.push(await rate(Math.min(ms, 3000), () => execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.parse(require('fs').readFileSync(${JSON.stringify(file)},'utf8')).login.accessToken)`])));
      }
      console.log(`   baton auth token gemini (dist/, a process each, through the daemon): ${median(cliRuns).toFixed(1)}/s; anchor, node -e reading the file: ${median(readRuns).toFixed(1)}/s (${(median(cliRuns) / median(readRuns)).toFixed(2)}x)`);
      // (b) refreshes per expiry.
      for (const [name, where] of [
        ['library mode', `sqlite:${join(db, 'baton.db')}`],
        ['through the daemon', socket],
      ] as const) {
        const rounds = [];
        for (let i = 0; i < 3; i += 1) rounds.push(await refreshesPerExpiry(issuer, dir, where));
        const per = rounds.map((r) => r.refreshes);
        console.log(`   ${PROCESSES} processes at expiry, ${name}: refreshes per expiry ${per.join(', ')}; refused ${rounds.reduce((s, r) => s + r.refused, 0)}; processes without a token ${rounds.reduce((s, r) => s + r.failed, 0)}`);
        check(`refreshes per expiry with ${PROCESSES} processes, ${name} == 1`, per.every((n) => n === 1) && rounds.every((r) => r.refused === 0 && r.failed === 0), per.join(', '));
      }
    } finally {
      await remote.close();
      await embedded.close();
    }
  } finally {
    await daemon.stop();
    await issuer.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
