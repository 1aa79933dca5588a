// baton auth login|logout|status: a model provider's login, kept for every
// process on this machine (docs/auth-gemini.md).
import { LoginStore, credentialsDir, storePreference, type StorePreference } from '../../credentials/login-store.ts';
import { checkApiKey, geminiCliFile, loginStatus, logout, readGeminiCliLogin, saveLogin } from '../../credentials/logins.ts';
import { DEFAULT_LOGIN_TIMEOUT_MS, oauthSettings, type Provider } from '../../credentials/providers.ts';
import { locateProject } from '../../project/state-dir.ts';
import type { StoredLogin } from '../../credentials/stored-login.ts';
import { BatonError } from '../../errors.ts';
import { CREDENTIAL_PROVIDERS } from '../../limits.ts';
import { canOpenBrowser, startBrowser } from '../browser.ts';
import { ExitCode, UsageError, integer, millis, parse, positionalArgs, warningLine } from '../command.ts';
import { ago, printJson } from '../output.ts';
import type { Action } from '../group.ts';
import { readSecret } from '../secret-input.ts';

/** The provider a command names: one of CREDENTIAL_PROVIDERS. */
export function providerArg(word: string | undefined, usage: string): Provider {
  if (word === undefined) throw new UsageError(`name the provider (${CREDENTIAL_PROVIDERS.join(', ')})\nusage: ${usage}`);
  if (!(CREDENTIAL_PROVIDERS as readonly string[]).includes(word)) throw new UsageError(`unknown provider ${JSON.stringify(word)} (known: ${CREDENTIAL_PROVIDERS.join(', ')})`);
  return word as Provider;
}

const storeHelp = `  --store <where>    keyring, file, or auto (default: $BATON_CREDENTIAL_STORE, else auto: the OS keyring when one
                     answers, else a 0600 file in ${credentialsDir()})
  --json             print the result as JSON (never a secret)
`;

function preferenceOption(value: string | undefined): StorePreference {
  if (value === undefined) return storePreference();
  if (value === 'auto' || value === 'keyring' || value === 'file') return value;
  throw new UsageError(`--store must be keyring, file or auto, got ${JSON.stringify(value)}`);
}

const loginUsage = 'baton auth login <provider> [--api-key | --oauth | --from-gemini-cli] [--issuer <url>] [--port <n>] [--no-open] [--timeout <s>] [--store <where>] [--json]';
const login: Action = {
  name: 'login',
  summary: 'log in to a model provider (gemini): an API key, or OAuth in a browser',
  usage: loginUsage,
  async run(argv) {
    const options = {
      'api-key': { type: 'boolean' },
      oauth: { type: 'boolean' },
      'from-gemini-cli': { type: 'boolean' },
      issuer: { type: 'string' },
      port: { type: 'string' },
      'no-open': { type: 'boolean' },
      timeout: { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean' },
    } as const;
    const { values, positionals } = parse(argv, options, loginUsage);
    if (values.help) {
      process.stdout.write(`usage: ${loginUsage}

Logs in once for every process on this machine: agents then ask 'baton auth token gemini' or
c.credential('gemini') and get a current credential; one process refreshes it for all.
GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment comes first and needs no login.

  --api-key          store an API key (Google AI Studio), read without echo, or from stdin when piped
  --oauth            sign in with Google (Vertex AI) in a browser: PKCE, a redirect to 127.0.0.1.
                     Needs GOOGLE_OAUTH_CLIENT_ID (and GOOGLE_OAUTH_CLIENT_SECRET) of a "desktop app" client;
                     BATON_GEMINI_ISSUER names another OpenID Connect issuer, BATON_GEMINI_SCOPES other scopes
  --from-gemini-cli  adopt gemini-cli's login (${geminiCliFile()}), which is read, never rewritten
  --issuer <url>     the OpenID Connect issuer (default: $BATON_GEMINI_ISSUER, else Google's; for
                     --from-gemini-cli always Google's unless given here)
  --port <n>         the loopback port for the sign-in answer (default: a free one)
  --no-open          print the sign-in address instead of opening a browser
  --timeout <s>      how long to wait for the sign-in (default ${DEFAULT_LOGIN_TIMEOUT_MS / 1000})
${storeHelp}
Default: --oauth when GOOGLE_OAUTH_CLIENT_ID is set, else --api-key.
`);
      return ExitCode.ok;
    }
    // An API key typed as an argument is refused without repeating it: argv is readable by every local process.
    if (positionals.length > 1) throw new UsageError(`unexpected argument after the provider (an API key is read from stdin, never from the command line)\nusage: ${loginUsage}`);
    const [word] = positionalArgs(positionals, ['provider'], loginUsage);
    const provider = providerArg(word, loginUsage);
    const modes = (['api-key', 'oauth', 'from-gemini-cli'] as const).filter((m) => values[m] === true);
    if (modes.length > 1) throw new UsageError(`choose one of --${modes.join(', --')}`);
    const preference = preferenceOption(values.store);
    if (values.issuer !== undefined && !/^https?:\/\/[^\s]+$/.test(values.issuer)) throw new UsageError(`--issuer must be an http(s) URL, got ${JSON.stringify(values.issuer)}`);
    await withFileAuthSettings();
    const settings = { ...oauthSettings(provider), ...(values.issuer === undefined ? {} : { issuer: values.issuer }) };
    const mode = modes[0] ?? (settings.clientId !== undefined ? 'oauth' : 'api-key');
    const port = integer('--port', values.port, { min: 0, max: 65535 }) ?? 0;
    const timeoutMs = millis('--timeout', values.timeout, true) ?? DEFAULT_LOGIN_TIMEOUT_MS;
    let stored: StoredLogin;
    if (mode === 'api-key') {
      stored = { mode: 'api-key', apiKey: checkApiKey(await readSecret(`${provider} API key (not shown): `)), savedAt: Date.now() };
    } else if (mode === 'from-gemini-cli') {
      stored = values.issuer === undefined ? readGeminiCliLogin() : readGeminiCliLogin(process.env, values.issuer);
    } else {
      if (settings.clientId === undefined) {
        throw new BatonError('INVALID_ARGUMENT', 'OAuth needs an OAuth client: set GOOGLE_OAUTH_CLIENT_ID (and GOOGLE_OAUTH_CLIENT_SECRET) to a "desktop app" client of your Google Cloud project');
      }
      // Loaded here: the OAuth library is for this command alone.
      const { browserLogin } = await import('../../credentials/browser-login.ts');
      stored = await browserLogin({
        provider,
        settings: { ...settings, clientId: settings.clientId },
        port,
        timeoutMs,
        onIgnored: (why) => process.stderr.write(warningLine(`${why}; still waiting`)),
        onAuthorizationUrl: async (url) => {
          const opened = values['no-open'] !== true && canOpenBrowser() && (await startBrowser(url));
          process.stderr.write(opened ? `Opened a browser to sign in; if it did not appear, open:\n  ${url}\n` : `Open this address in a browser to sign in:\n  ${url}\n`);
        },
      });
    }
    const store = new LoginStore(credentialsDir(), provider);
    const location = await saveLogin(store, stored, preference);
    const expiresAt = stored.mode === 'oauth' ? stored.expiresAt : null;
    const account = stored.mode === 'oauth' ? stored.account : null;
    if (values.json) printJson({ provider, mode: stored.mode, source: stored.mode === 'oauth' ? stored.source : 'api-key', location, dir: store.dir, account, expiresAt });
    else {
      const where = location === 'keyring' ? 'the OS keyring' : `${store.path} (mode 0600, not encrypted)`;
      process.stdout.write(`logged in to ${provider}${account === null ? '' : ` as ${account}`} (${mode}); stored in ${where}\n`);
    }
    return ExitCode.ok;
  },
};

const logoutUsage = 'baton auth logout <provider> [--everywhere] [--force] [--json]';
const logoutAction: Action = {
  name: 'logout',
  summary: 'revoke the login at the issuer and delete it here',
  usage: logoutUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { everywhere: { type: 'boolean' }, force: { type: 'boolean' }, json: { type: 'boolean' } } as const, logoutUsage);
    if (values.help) {
      process.stdout.write(`usage: ${logoutUsage}

Revokes the OAuth grant at the issuer (its refresh token: no process can get new access tokens),
then deletes the login from the keyring or file. Access tokens already handed out stay valid until
they expire (an hour at most at Google). A login adopted from gemini-cli is only forgotten here:
revoking it would sign gemini-cli out too. An API key is deleted here (revoke it in AI Studio).

  --everywhere       also revoke the current access token, cutting off every process already handed
                     it, and revoke an adopted gemini-cli login too (signing gemini-cli out)
  --force            delete the login even when the issuer cannot be told (without it, the login is kept,
                     so that logout can be tried again: it is the only way to revoke the grant)
  --json             print {"provider","removedFrom","revocation","revocationError"?,"kept"}
`);
      return ExitCode.ok;
    }
    const [word] = positionalArgs(positionals, ['provider'], logoutUsage);
    const provider = providerArg(word, logoutUsage);
    const result = await logout(new LoginStore(credentialsDir(), provider), { everywhere: values.everywhere === true, force: values.force === true });
    if (values.json) printJson(result);
    else if (result.kept) {
      throw new BatonError('UNAVAILABLE', `the ${provider} login was NOT revoked (${result.revocationError}) and is kept, so that logout can be tried again; --force deletes it without revoking`);
    } else {
      const revoked = { revoked: 'revoked at the issuer', skipped: 'not revoked (adopted from gemini-cli; --everywhere revokes it)', unsupported: 'not revoked (the issuer has no revocation endpoint)', failed: `NOT revoked (${result.revocationError})`, none: '' }[result.revocation];
      const removed = result.removedFrom === null ? `no ${provider} login was stored` : `deleted the ${provider} login from the ${result.removedFrom === 'keyring' ? 'OS keyring' : 'file'}`;
      process.stdout.write(`${removed}${revoked === '' ? '' : `; ${revoked}`}\n`);
    }
    return result.revocation === 'failed' ? ExitCode.failure : ExitCode.ok;
  },
};

const statusUsage = 'baton auth status [<provider>] [--json]';
const status: Action = {
  name: 'status',
  summary: 'which credential each provider would use, and until when (no secrets)',
  usage: statusUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' } } as const, statusUsage);
    if (values.help) {
      process.stdout.write(`usage: ${statusUsage}\n\nSays where each provider's credential comes from (the environment or the stored login), where the\nlogin is stored, whose it is, and when its access token expires. Never prints a secret.\n  --json             print [{"provider","active","environmentVariable","store","problem"}]\n`);
      return ExitCode.ok;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}\nusage: ${statusUsage}`);
    const providers = positionals[0] === undefined ? [...CREDENTIAL_PROVIDERS] : [providerArg(positionals[0], statusUsage)];
    const statuses = await Promise.all(providers.map((p) => loginStatus(new LoginStore(credentialsDir(), p))));
    if (values.json) {
      printJson(statuses);
      return ExitCode.ok;
    }
    const now = Date.now();
    for (const s of statuses) {
      const lines = [`${s.provider}: ${s.active === 'environment' ? `API key from $${s.environmentVariable}` : s.active === 'store' ? 'stored login' : 'not logged in'}`];
      if (s.store !== null) {
        const l = s.store.login;
        lines.push(`  stored in ${s.store.location === 'keyring' ? 'the OS keyring' : `${s.store.dir} (file, 0600)`}${s.active === 'environment' ? ' (unused while the variable is set)' : ''}`);
        if (l.mode === 'api-key') lines.push('  mode: API key');
        else {
          lines.push(`  mode: OAuth with ${String(l.issuer)}${l.account === null ? '' : ` as ${String(l.account)}`}${l.source === 'gemini-cli' ? ' (adopted from gemini-cli)' : ''}`);
          const exp = l.expiresAt as number | null;
          lines.push(`  access token ${exp === null ? 'has no known expiry' : exp > now ? `expires ${ago(exp, now)}` : `expired ${ago(exp, now)} (refreshed on next use)`}; ${l.refreshable ? 'refreshable' : 'not refreshable'}`);
        }
      }
      if (s.problem !== null) lines.push(`  problem: ${s.problem}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return ExitCode.ok;
  },
};

/**
 * baton.toml's [auth.gemini] (docs/config.md) where the environment says
 * nothing: the settings the daemon's broker refreshes this login with.
 */
async function withFileAuthSettings(): Promise<void> {
  const { authVariables, effectiveConfig } = await import('../../config/effective.ts');
  const { findConfig } = await import('../../config/load.ts');
  const { file } = await findConfig(locateProject().root);
  for (const [name, value] of Object.entries(authVariables(effectiveConfig(file)))) process.env[name] ??= value;
}

export const loginActions: Action[] = [login, logoutAction, status];
