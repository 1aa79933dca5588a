// What a login keeps: an API key, or an OAuth grant (the refresh token and the
// current access token, with where to refresh them). Held in the OS keyring or
// a 0600 file (login-store.ts); checked field by field when read, so a file
// edited by hand or cut short is refused by name, never half-used.
import { BatonError } from '../errors.ts';

export interface ApiKeyLogin {
  mode: 'api-key';
  apiKey: string;
  savedAt: number;
}

export interface OAuthLogin {
  mode: 'oauth';
  /** The OpenID Connect issuer that granted it: refreshes and revocations go there. */
  issuer: string;
  /** The OAuth client it was granted to; null when adopted without one (refresh then needs GOOGLE_OAUTH_CLIENT_ID). */
  clientId: string | null;
  clientSecret: string | null;
  scope: string;
  accessToken: string;
  refreshToken: string | null;
  /** When the access token expires, ms since the epoch (null: the issuer did not say). */
  expiresAt: number | null;
  /** When the access token was had. */
  obtainedAt: number;
  /** 'login': baton's own sign-in. 'gemini-cli': adopted from gemini-cli's file (which baton never rewrites). */
  source: 'login' | 'gemini-cli';
  /** Who signed in (the ID token's sub or email), when known: shown by `auth status`. */
  account: string | null;
  project: string | null;
  region: string | null;
}

export type StoredLogin = ApiKeyLogin | OAuthLogin;

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNullableString = (v: unknown): v is string | null => v === null || isString(v);
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The login in `value`, or a CORRUPT_FILE error naming `where` and the first bad field (never a value). */
export function parseStoredLogin(value: unknown, where: string): StoredLogin {
  const bad = (field: string): BatonError =>
    new BatonError('CORRUPT_FILE', `the login in ${where} has a missing or malformed ${field}; log in again (baton auth login) to replace it`, { details: { where, field } });
  if (typeof value !== 'object' || value === null) throw bad('login');
  const v = value as Record<string, unknown>;
  if (v.mode === 'api-key') {
    if (!isString(v.apiKey)) throw bad('apiKey');
    if (!isTime(v.savedAt)) throw bad('savedAt');
    return { mode: 'api-key', apiKey: v.apiKey, savedAt: v.savedAt };
  }
  if (v.mode !== 'oauth') throw bad('mode');
  for (const field of ['issuer', 'scope', 'accessToken'] as const) if (!isString(v[field])) throw bad(field);
  for (const field of ['clientId', 'clientSecret', 'refreshToken', 'account', 'project', 'region'] as const) if (!isNullableString(v[field])) throw bad(field);
  if (!(v.expiresAt === null || isTime(v.expiresAt))) throw bad('expiresAt');
  if (!isTime(v.obtainedAt)) throw bad('obtainedAt');
  if (v.source !== 'login' && v.source !== 'gemini-cli') throw bad('source');
  return v as unknown as OAuthLogin;
}

/** What may be shown of a login: everything but its secrets. */
export function describeLogin(login: StoredLogin): Record<string, unknown> {
  if (login.mode === 'api-key') return { mode: 'api-key', savedAt: login.savedAt };
  return {
    mode: 'oauth',
    issuer: login.issuer,
    clientId: login.clientId,
    scope: login.scope,
    expiresAt: login.expiresAt,
    obtainedAt: login.obtainedAt,
    refreshable: login.refreshToken !== null && login.clientId !== null,
    source: login.source,
    account: login.account,
    project: login.project,
    region: login.region,
  };
}
