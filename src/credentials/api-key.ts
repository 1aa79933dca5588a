// An API key as a credential: what every Coordinator hands out when the
// environment holds one (GEMINI_API_KEY first), before any stored login.
import type { Credential } from '../coordinator.ts';
import { PROVIDER_SETTINGS, apiKeyFromEnvironment, type Provider } from './providers.ts';

export function apiKeyCredential(provider: Provider, key: string, source: Credential['source']): Credential {
  return { provider, type: 'api-key', token: key, headers: { [PROVIDER_SETTINGS[provider].apiKeyHeader]: key }, expiresAt: null, source, project: null, region: null };
}

/** The credential this process's environment gives, if any. */
export function environmentCredential(provider: Provider, env: NodeJS.ProcessEnv = process.env): Credential | undefined {
  const found = apiKeyFromEnvironment(provider, env);
  return found === undefined ? undefined : apiKeyCredential(provider, found.key, 'environment');
}
