// The OAuth 2.0 / OpenID Connect protocol, by openid-client (panva's, the
// certified implementation): discovery, the authorization-code grant with
// PKCE and state checks (and RFC 9207's `iss` where the issuer sends it),
// refresh, revocation. Loaded only when a login is made or refreshed.
import * as client from 'openid-client';
import { BatonError } from '../errors.ts';
import type { OAuthLogin } from './stored-login.ts';

export interface ClientIdentity {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
}

const configurations = new Map<string, Promise<client.Configuration>>();
/**
 * Seconds one request to the issuer may take (openid-client's default is 30):
 * a refresher holds the login's lock meanwhile, and its siblings wait at most
 * a minute for it (login-store.ts), discovery and refresh included.
 */
const ISSUER_TIMEOUT_S = 15;

/** True for http://127.0.0.1, ::1 and localhost: a local test issuer may speak plain HTTP; a remote one may not. */
function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

/** The issuer's metadata (discovery), once per process per issuer and client. */
export function configuration(identity: ClientIdentity): Promise<client.Configuration> {
  const cacheKey = `${identity.issuer}\n${identity.clientId}`;
  let found = configurations.get(cacheKey);
  if (found === undefined) {
    found = discover(identity);
    configurations.set(cacheKey, found);
    // A failed discovery is not remembered: the next call tries again.
    found.catch(() => configurations.delete(cacheKey));
  }
  return found;
}

async function discover({ issuer, clientId, clientSecret }: ClientIdentity): Promise<client.Configuration> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new BatonError('INVALID_ARGUMENT', `the issuer ${JSON.stringify(issuer)} is not a URL`);
  }
  const insecure = url.protocol === 'http:';
  if (insecure && !isLoopback(url)) throw new BatonError('INVALID_ARGUMENT', `the issuer ${issuer} must use https (plain http is allowed on loopback only)`);
  const auth = clientSecret === null ? client.None() : client.ClientSecretPost(clientSecret);
  let config: client.Configuration;
  try {
    config = await client.discovery(url, clientId, undefined, auth, { timeout: ISSUER_TIMEOUT_S, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) });
  } catch (error) {
    throw new BatonError('UNAVAILABLE', `could not read the OpenID Connect discovery document of ${issuer}: ${reason(error)}`);
  }
  config.timeout = ISSUER_TIMEOUT_S;
  return config;
}

/** The issuer's error code (e.g. invalid_grant), if the error is an OAuth error answer. */
export function oauthErrorCode(error: unknown): string | undefined {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) return error.error;
  return undefined;
}

/** An error's reason for a message: the OAuth error code and description, or the message. Never a token: the library does not put them in messages. */
export function reason(error: unknown): string {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    return error.error_description === undefined ? error.error : `${error.error}: ${error.error_description}`;
  }
  const cause = (error as { cause?: unknown }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error && cause.message !== message ? `${message} (${cause.message})` : message;
}

export type GrantedTokens = Pick<OAuthLogin, 'accessToken' | 'refreshToken' | 'expiresAt' | 'obtainedAt' | 'scope' | 'account'>;

/** The stored form of a token answer; a field the answer leaves out keeps `previous`'s value (a refresh often sends no new refresh token). */
export function grantedTokens(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, now: number, previous?: GrantedTokens): GrantedTokens {
  const expiresIn = tokens.expiresIn();
  const claims = tokens.id_token === undefined ? undefined : tokens.claims();
  const account = claims === undefined ? undefined : typeof claims.email === 'string' ? claims.email : claims.sub;
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken ?? null,
    expiresAt: expiresIn === undefined ? null : now + expiresIn * 1000,
    obtainedAt: now,
    scope: tokens.scope ?? previous?.scope ?? '',
    account: account ?? previous?.account ?? null,
  };
}

/** One refresh-token grant. Errors as the library raises them: the caller tells invalid_grant apart (oauthErrorCode). */
export async function refreshGrant(identity: ClientIdentity, login: OAuthLogin, now: () => number): Promise<GrantedTokens> {
  const config = await configuration(identity);
  const tokens = await client.refreshTokenGrant(config, login.refreshToken!);
  return grantedTokens(tokens, now(), login);
}

/** Revokes a token at the issuer (RFC 7009). False when the issuer has no revocation endpoint. */
export async function revoke(identity: ClientIdentity, token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
  const config = await configuration(identity);
  if (config.serverMetadata().revocation_endpoint === undefined) return false;
  await client.tokenRevocation(config, token, { token_type_hint: hint });
  return true;
}

export { client };
