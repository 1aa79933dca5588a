// What the credential tests share: the environment that points baton at the
// test issuer and a private credentials directory, and a login driven through
// the CLI and the issuer's own pages.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { startNode, tempDir, type Finished, type Running } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';
import { issuerEnvironment, signInByHttp, type TestIssuer } from '../../support/oidc.ts';

export interface LoginEnv extends NodeJS.ProcessEnv {
  BATON_CREDENTIALS_DIR: string;
}

/** A private credentials directory (the file store: no keyring unless a test asks) and the issuer's settings; no API key from the caller's environment. */
export function issuerEnv(t: TestContext, issuer: TestIssuer, extra: NodeJS.ProcessEnv = {}): LoginEnv {
  const home = tempDir(t, 'baton-cred-');
  return {
    ...issuerEnvironment(issuer.issuer, join(home, 'credentials')),
    BATON_CREDENTIALS_DIR: join(home, 'credentials'),
    HOME: home,
    BROWSER: '',
    DISPLAY: '',
    WAYLAND_DISPLAY: '',
    ...extra,
  };
}

/** Starts `baton auth login gemini --oauth --no-open ...` and resolves with the sign-in address it prints. */
export function startLogin(env: NodeJS.ProcessEnv, args: string[] = [], cwd?: string): { running: Running; url: Promise<string> } {
  const running = startNode(cli, ['auth', 'login', 'gemini', '--oauth', '--no-open', ...args], { env, ...(cwd === undefined ? {} : { cwd }) });
  const url = new Promise<string>((resolve, reject) => {
    let text = '';
    running.child.stderr!.on('data', (chunk: Buffer | string) => {
      text += String(chunk);
      const found = /(http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(text);
      if (found !== null) resolve(found[1]!);
    });
    void running.done.then((done) => reject(new Error(`login exited (${done.code}) before printing an address: ${done.stderr}`)));
  });
  url.catch(() => {}); // a test that expects no address need not wait for one
  return { running, url };
}

/** A whole login through the CLI: the address followed through the issuer's pages. */
export async function loginThroughIssuer(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Finished> {
  const { running, url } = startLogin(env, args);
  const answer = await signInByHttp(await url);
  const done = await running.done;
  if (answer.status !== 200 || done.code !== 0) throw new Error(`login failed: callback ${answer.status} ${answer.body}; cli ${done.code}: ${done.stderr}`);
  return done;
}
