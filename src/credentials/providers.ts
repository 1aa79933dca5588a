// The providers baton holds logins for, and where each one's settings come
// from. Environment variables come first (12-factor): an API key in the
// environment is used as it is, and the OAuth settings name the client and
// the issuer. Only Gemini so far; a provider is a row here, not new code.

import { CREDENTIAL_PROVIDERS } from '../limits.ts';

export type Provider = (typeof CREDENTIAL_PROVIDERS)[number];

export interface ProviderSettings {
  /** Environment variables holding an API key, first found wins. */
  apiKeyVariables: readonly string[];
  /** The header an API key travels in. */
  apiKeyHeader: string;
  /** The OpenID Connect issuer (discovery at <issuer>/.well-known/openid-configuration). */
  defaultIssuer: string;
  defaultScopes: readonly string[];
  /** Extra authorization parameters for this issuer (Google hands out a refresh token only when asked offline, with consent). */
  authorizationParameters(issuer: string): Record<string, string>;
}

const GOOGLE_ISSUER = 'https://accounts.google.com';
/** How long `auth login --oauth` waits for the browser's answer. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;

export const PROVIDER_SETTINGS: Record<Provider, ProviderSettings> = {
  gemini: {
    apiKeyVariables: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    apiKeyHeader: 'x-goog-api-key',
    defaultIssuer: GOOGLE_ISSUER,
    // Vertex AI takes the cloud-platform scope; openid and email say who signed in.
    defaultScopes: ['openid', 'email', 'https://www.googleapis.com/auth/cloud-platform'],
    authorizationParameters: (issuer): Record<string, string> => (issuer === GOOGLE_ISSUER ? { access_type: 'offline', prompt: 'consent' } : { prompt: 'consent' }),
  },
};

/**
 * Every environment variable the credentials read (the .env.sample names them all):
 * - GEMINI_API_KEY, GOOGLE_API_KEY: an API key, used before any stored login.
 * - GOOGLE_OAUTH_CLIENT_ID, GOOGLE_OAUTH_CLIENT_SECRET: the OAuth client (a "desktop app" client; Google's secret for it is not secret).
 * - BATON_GEMINI_ISSUER: another OpenID Connect issuer than Google's (a test server, a proxy).
 * - BATON_GEMINI_SCOPES: space-separated scopes instead of the defaults.
 * - GCP_PROJECT_ID, VERTEX_REGION: the Vertex AI project and region, handed out with an OAuth credential.
 */
export interface OAuthSettings {
  issuer: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  scopes: string[];
  project: string | undefined;
  region: string | undefined;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

export function oauthSettings(provider: Provider, env: NodeJS.ProcessEnv = process.env): OAuthSettings {
  const settings = PROVIDER_SETTINGS[provider];
  const scopes = nonEmpty(env.BATON_GEMINI_SCOPES)?.split(/\s+/) ?? [...settings.defaultScopes];
  return {
    issuer: nonEmpty(env.BATON_GEMINI_ISSUER) ?? settings.defaultIssuer,
    clientId: nonEmpty(env.GOOGLE_OAUTH_CLIENT_ID),
    clientSecret: nonEmpty(env.GOOGLE_OAUTH_CLIENT_SECRET),
    scopes,
    project: nonEmpty(env.GCP_PROJECT_ID),
    region: nonEmpty(env.VERTEX_REGION),
  };
}

/** The API key the environment gives, and the variable it came from. */
export function apiKeyFromEnvironment(provider: Provider, env: NodeJS.ProcessEnv = process.env): { key: string; variable: string } | undefined {
  for (const variable of PROVIDER_SETTINGS[provider].apiKeyVariables) {
    const key = nonEmpty(env[variable]);
    if (key !== undefined) return { key, variable };
  }
  return undefined;
}
