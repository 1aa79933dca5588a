// What `baton auth login|logout|status` do to a provider's stored login. Each
// change happens under the store's lock, so a login or logout never lands in
// the middle of another process's refresh.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { LoginStore, type StoreLocation, type StorePreference } from './login-store.ts';
import { PROVIDER_SETTINGS, apiKeyFromEnvironment, oauthSettings, type Provider } from './providers.ts';
import { describeLogin, type OAuthLogin, type StoredLogin } from './stored-login.ts';

/** Stores a new login in place of any old one (a damaged or unreachable old one too: a login is how it is mended). Returns where it went. */
export function saveLogin(store: LoginStore, login: StoredLogin, preference: StorePreference): Promise<StoreLocation> {
  return store.locked(async () => store.write(login, await store.read().catch(() => undefined), preference));
}

/** An API key as typed or piped: one line, no spaces, of a sane length. */
export function checkApiKey(text: string): string {
  const key = text.trim();
  if (key.length === 0) throw new BatonError('INVALID_ARGUMENT', 'no API key was given (type or pipe it on stdin)');
  if (/\s/.test(key) || key.length > 512) throw new BatonError('INVALID_ARGUMENT', `that is not an API key (${key.length} characters${/\s/.test(key) ? ', with spaces' : ''}); paste the key alone`);
  return key;
}

/** gemini-cli's own login file: ~/.gemini/oauth_creds.json. */
export function geminiCliFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME ?? homedir(), '.gemini', 'oauth_creds.json');
}

/**
 * The login gemini-cli made, read (never rewritten) from its file, as a
 * login of ours. Refreshing it needs the OAuth client gemini-cli signed in
 * with: GOOGLE_OAUTH_CLIENT_ID (and _SECRET), else it is used until it expires.
 * Its issuer is Google's (gemini-cli signs in there), not BATON_GEMINI_ISSUER:
 * a Google refresh token must not go to another issuer; `issuer` says otherwise.
 */
export function readGeminiCliLogin(env: NodeJS.ProcessEnv = process.env, issuer: string = PROVIDER_SETTINGS.gemini.defaultIssuer, file = geminiCliFile(env)): OAuthLogin {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new BatonError('NOT_FOUND', `no gemini-cli login at ${file} (sign in with gemini-cli first, or use baton auth login gemini --oauth)`, { details: { file } });
    if (error instanceof SyntaxError) throw new BatonError('CORRUPT_FILE', `${file} is not valid JSON`, { details: { file } });
    throw fsError(error, 'read', file);
  }
  if (typeof value !== 'object' || value === null || typeof value.access_token !== 'string' || value.access_token === '') {
    throw new BatonError('CORRUPT_FILE', `${file} holds no access_token: not a gemini-cli login`, { details: { file } });
  }
  const settings = oauthSettings('gemini', env);
  const now = Date.now();
  // No expiry given: taken as expired, so it is refreshed on first use (or refused if it cannot be).
  const expiry = Number.isSafeInteger(value.expiry_date) ? (value.expiry_date as number) : now;
  return {
    mode: 'oauth',
    issuer,
    clientId: settings.clientId ?? null,
    clientSecret: settings.clientSecret ?? null,
    scope: typeof value.scope === 'string' ? value.scope : '',
    accessToken: value.access_token,
    refreshToken: typeof value.refresh_token === 'string' && value.refresh_token !== '' ? value.refresh_token : null,
    expiresAt: expiry,
    obtainedAt: Math.min(now, expiry),
    source: 'gemini-cli',
    account: null,
    project: settings.project ?? null,
    region: settings.region ?? null,
  };
}

export interface LogoutResult {
  provider: Provider;
  /** Where the login was deleted from, or null when nothing was deleted (none stored, or kept because revocation failed). */
  removedFrom: StoreLocation | null;
  /** What the issuer was told: revoked, not asked (an adopted gemini-cli login without --everywhere), no endpoint, failed, or no grant (an API key, nothing stored). */
  revocation: 'revoked' | 'skipped' | 'unsupported' | 'failed' | 'none';
  /** Why revocation failed, when it did. */
  revocationError?: string;
  /** Revocation failed and the login was kept, so that logout can be tried again (--force deletes it anyway). */
  kept: boolean;
}

/**
 * Revokes the grant at the issuer, then deletes the stored login. A login
 * adopted from gemini-cli is not revoked unless `everywhere` (that would sign
 * gemini-cli out too). `everywhere` also revokes the current access token, so
 * processes already handed it are cut off too where the issuer checks. When
 * the issuer cannot be told, the login is kept (it is the only handle to
 * revoke the grant later) unless `force`.
 */
export async function logout(store: LoginStore, options: { everywhere?: boolean; force?: boolean } = {}): Promise<LogoutResult> {
  const provider = store.provider;
  return store.locked(async () => {
    const result: LogoutResult = { provider, removedFrom: null, revocation: 'none', kept: false };
    let login: StoredLogin | undefined;
    try {
      login = (await store.read())?.login;
    } catch (error) {
      // Unreadable (damaged, or in a keyring this process cannot reach): nothing to revoke with.
      result.revocation = 'failed';
      result.revocationError = `the stored login could not be read: ${(error as Error).message}`;
    }
    if (login?.mode === 'oauth') {
      const everywhere = options.everywhere === true;
      const clientId = login.clientId ?? oauthSettings(provider).clientId ?? null;
      if (login.source === 'gemini-cli' && !everywhere) result.revocation = 'skipped';
      else if (clientId === null) {
        result.revocation = 'failed';
        result.revocationError = 'no OAuth client id to revoke with (set GOOGLE_OAUTH_CLIENT_ID)';
      } else {
        const { revoke, reason } = await import('./oauth.ts');
        const identity = { issuer: login.issuer, clientId, clientSecret: login.clientSecret };
        try {
          let supported = true;
          if (login.refreshToken !== null) supported = await revoke(identity, login.refreshToken, 'refresh_token');
          if (supported && (everywhere || login.refreshToken === null)) supported = await revoke(identity, login.accessToken, 'access_token');
          result.revocation = supported ? 'revoked' : 'unsupported';
        } catch (error) {
          result.revocation = 'failed';
          result.revocationError = reason(error);
        }
      }
    }
    if (result.revocation === 'failed' && login !== undefined && options.force !== true) {
      result.kept = true;
      return result;
    }
    result.removedFrom = (await store.delete()) ?? null;
    return result;
  });
}

export interface LoginStatus {
  provider: Provider;
  /** What credential() would hand out now: the environment's API key, the stored login, or nothing. */
  active: 'environment' | 'store' | 'none';
  /** The environment variable holding the API key, when one does. */
  environmentVariable: string | null;
  store: { dir: string; location: StoreLocation; login: Record<string, unknown> } | null;
  /** Why the stored login could not be read, if it could not. */
  problem: string | null;
}

/** What is known about a provider's login, with no secret in it. */
export async function loginStatus(store: LoginStore, env: NodeJS.ProcessEnv = process.env): Promise<LoginStatus> {
  const fromEnv = apiKeyFromEnvironment(store.provider, env);
  let stored: LoginStatus['store'] = null;
  let problem: string | null = null;
  try {
    const entry = await store.read();
    if (entry !== undefined) stored = { dir: store.dir, location: entry.location, login: describeLogin(entry.login) };
  } catch (error) {
    problem = (error as Error).message;
  }
  return {
    provider: store.provider,
    active: fromEnv !== undefined ? 'environment' : stored !== null ? 'store' : 'none',
    environmentVariable: fromEnv?.variable ?? null,
    store: stored,
    problem,
  };
}
