// One refresher for every process. Each process keeps the login it last read
// and hands it out while it is fresh. Near expiry (a skew window, with a
// per-process jitter so siblings do not all arrive at once), one caller in
// the process goes on (single flight) and takes the store's baton lock; it
// then re-reads the store, and refreshes only if the token it had is still
// the stored one: otherwise a sibling refreshed, and it adopts that token.
// With refresh-token rotation this is what keeps a second refresh from
// presenting a used refresh token and logging everyone out. A refresh answered
// invalid_grant re-reads once more and adopts a sibling's token (one that
// refreshed without the lock: an older baton, a tool of its own) before it
// gives up. A daemon is one such process, the broker for its clients:
// they get access tokens, never the refresh token.
import { BatonError, isBatonError } from '../errors.ts';
import type { Credential, CredentialOptions } from '../coordinator.ts';
import { LoginStore, credentialsDir, type LoginEntry } from './login-store.ts';
import { apiKeyCredential, environmentCredential } from './api-key.ts';
import { PROVIDER_SETTINGS, oauthSettings, type Provider } from './providers.ts';
import type { OAuthLogin } from './stored-login.ts';

/** How long before expiry a token is refreshed, at most (a quarter of its lifetime when that is shorter). */
export const REFRESH_SKEW_MS = 5 * 60_000;
const DEFAULT_MIN_VALIDITY_MS = 60_000;

export interface BrokerOptions {
  /** The credentials directory (default credentialsDir(): $BATON_CREDENTIALS_DIR, else ~/.config/baton/credentials). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Told of each refresh and each failure (credential.refreshed, credential.failed), without secrets. Its errors are ignored. */
  onEvent?: (type: 'credential.refreshed' | 'credential.failed', data: Record<string, unknown>) => unknown;
  now?: () => number;
}

export class CredentialBroker {
  readonly #env: NodeJS.ProcessEnv;
  readonly #dir: string;
  readonly #onEvent: BrokerOptions['onEvent'];
  readonly #now: () => number;
  /** This process's jitter, a fraction of the skew window: spreads siblings' refresh times. */
  readonly #jitter = Math.random() * 0.2;
  readonly #cache = new Map<Provider, { text: string; entry: LoginEntry }>();
  readonly #inFlight = new Map<Provider, Promise<Credential>>();

  constructor(options: BrokerOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#dir = options.dir ?? credentialsDir(this.#env);
    this.#onEvent = options.onEvent;
    this.#now = options.now ?? Date.now;
  }

  store(provider: Provider): LoginStore {
    return new LoginStore(this.#dir, provider);
  }

  async get(provider: Provider, options: CredentialOptions = {}): Promise<Credential> {
    const fromEnv = environmentCredential(provider, this.#env);
    if (fromEnv !== undefined) return fromEnv;
    const minValidity = options.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    const entry = await this.#read(provider);
    if (entry.login.mode === 'api-key') return apiKeyCredential(provider, entry.login.apiKey, 'store');
    if (this.#fresh(entry.login, minValidity)) return this.#bearer(provider, entry.login);
    if (this.#env.BATON_UNSAFE_NO_REFRESH_LOCK === '1') return this.#refresh(provider, entry, minValidity); // tests only: shows what the lock prevents
    let flight = this.#inFlight.get(provider);
    if (flight === undefined) {
      flight = this.#refreshLocked(provider, entry, minValidity).finally(() => this.#inFlight.delete(provider));
      this.#inFlight.set(provider, flight);
    }
    return flight;
  }

  /** The stored login, from this process's copy while the file's text is unchanged. */
  async #read(provider: Provider): Promise<LoginEntry> {
    const store = this.store(provider);
    const cached = this.#cache.get(provider);
    const text = store.readText();
    const entry = text !== undefined && cached?.text === text ? cached.entry : await this.#load(provider, store);
    if (entry === undefined) {
      const vars = PROVIDER_SETTINGS[provider].apiKeyVariables.join(' or ');
      throw new BatonError('LOGIN_REQUIRED', `no ${provider} login in ${store.dir}: run 'baton auth login ${provider}', or set ${vars}`, { details: { provider } });
    }
    return entry;
  }

  /**
   * Whether the token is good for at least minValidity, and not yet in its
   * refresh window. minValidity counts up to half the token's lifetime: a
   * caller asking for more than a token can give would refresh on every call.
   */
  #fresh(login: OAuthLogin, minValidity: number): boolean {
    if (login.expiresAt === null) return true;
    const lifetime = Math.max(0, login.expiresAt - login.obtainedAt);
    const window = Math.min(REFRESH_SKEW_MS, lifetime / 4) * (1 + this.#jitter);
    return login.expiresAt - this.#now() > Math.max(Math.min(minValidity, lifetime / 2), window);
  }

  async #refreshLocked(provider: Provider, seen: LoginEntry, minValidity: number): Promise<Credential> {
    const store = this.store(provider);
    return store.locked(async () => {
      const current = await this.#load(provider, store);
      if (current === undefined) throw new BatonError('LOGIN_REQUIRED', `the ${provider} login was removed (baton auth logout); log in again`, { details: { provider } });
      if (current.login.mode === 'api-key') return apiKeyCredential(provider, current.login.apiKey, 'store');
      if (this.#adoptable(current.login, seen.login as OAuthLogin, minValidity)) return this.#bearer(provider, current.login);
      return this.#refresh(provider, current, minValidity);
    });
  }

  /** A token a sibling stored after we read ours, fresh enough for this caller: use it rather than refresh again. */
  #adoptable(current: OAuthLogin, seen: OAuthLogin, minValidity: number): boolean {
    return current.accessToken !== seen.accessToken && this.#fresh(current, minValidity);
  }

  async #refresh(provider: Provider, entry: LoginEntry, minValidity: number): Promise<Credential> {
    const store = this.store(provider);
    const login = entry.login as OAuthLogin;
    const settings = oauthSettings(provider, this.#env);
    const clientId = login.clientId ?? settings.clientId ?? null;
    if (login.refreshToken === null || clientId === null) {
      if (login.expiresAt === null || login.expiresAt > this.#now()) return this.#bearer(provider, login);
      const why = login.refreshToken === null ? 'has no refresh token' : `was adopted from gemini-cli without its OAuth client: set GOOGLE_OAUTH_CLIENT_ID (and GOOGLE_OAUTH_CLIENT_SECRET) to the client that issued it`;
      throw new BatonError('LOGIN_REQUIRED', `the ${provider} access token expired and the login ${why}; or run 'baton auth login ${provider}'`, { details: { provider } });
    }
    const identity = { issuer: login.issuer, clientId, clientSecret: login.clientSecret ?? (login.clientId === null ? (settings.clientSecret ?? null) : null) };
    const oauth = await import('./oauth.ts');
    let tokens;
    try {
      tokens = await oauth.refreshGrant(identity, login, this.#now);
    } catch (error) {
      const code = oauth.oauthErrorCode(error);
      if (code === 'invalid_grant') {
        // A sibling may have refreshed with this refresh token a moment ago (without our lock): adopt what it stored.
        const again = await this.#load(provider, store);
        if (again !== undefined && again.login.mode === 'oauth' && again.login.refreshToken !== login.refreshToken && this.#adoptable(again.login, login, minValidity)) {
          return this.#bearer(provider, again.login);
        }
      }
      this.#emit('credential.failed', { provider, issuer: login.issuer, error: code ?? 'unreachable', message: oauth.reason(error) });
      if (code === undefined && login.expiresAt !== null && login.expiresAt - this.#now() > 0 && minValidity <= login.expiresAt - this.#now()) {
        // The issuer could not be reached, but the token still has the life asked for: hand it out, and try again next time.
        return this.#bearer(provider, login);
      }
      // No `cause`: openid-client may attach the issuer's whole answer, tokens and all.
      if (code === undefined) throw new BatonError('UNAVAILABLE', `could not refresh the ${provider} token at ${login.issuer}: ${oauth.reason(error)}`);
      throw new BatonError('LOGIN_REQUIRED', `the ${provider} login was refused by ${login.issuer} (${oauth.reason(error)}): it was revoked or has expired; run 'baton auth login ${provider}'`, {
        details: { provider, error: code },
      });
    }
    const refreshed: OAuthLogin = { ...login, ...tokens };
    await store.write(refreshed, entry);
    await this.#load(provider, store);
    this.#emit('credential.refreshed', { provider, issuer: login.issuer, expiresAt: refreshed.expiresAt, rotated: refreshed.refreshToken !== login.refreshToken, pid: process.pid });
    return this.#bearer(provider, refreshed);
  }

  /** Reads the stored login afresh, and keeps it as this process's copy (keyed by the file's text). */
  async #load(provider: Provider, store: LoginStore): Promise<LoginEntry | undefined> {
    const text = store.readText();
    if (text === undefined) {
      this.#cache.delete(provider);
      return undefined;
    }
    const entry = await store.parse(text);
    this.#cache.set(provider, { text, entry });
    return entry;
  }

  /** Forgets what this process read (after a login or logout in this process). */
  forget(provider: Provider): void {
    this.#cache.delete(provider);
  }

  #emit(type: 'credential.refreshed' | 'credential.failed', data: Record<string, unknown>): void {
    try {
      Promise.resolve(this.#onEvent?.(type, data)).catch(() => {});
    } catch {
      // an event is a report, never a reason to fail the credential
    }
  }

  #bearer(provider: Provider, login: OAuthLogin): Credential {
    const settings = oauthSettings(provider, this.#env);
    return {
      provider,
      type: 'bearer',
      token: login.accessToken,
      headers: { authorization: `Bearer ${login.accessToken}` },
      expiresAt: login.expiresAt,
      source: 'store',
      project: settings.project ?? login.project,
      region: settings.region ?? login.region,
    };
  }
}

/** Whether an error means "log in again" (for callers that want to say so). */
export const needsLogin = (error: unknown): boolean => isBatonError(error, 'LOGIN_REQUIRED');
