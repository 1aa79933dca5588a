// The checks of a credential request (the broker itself, which refreshes
// under a lock for every process, is src/credentials/broker.ts).
import type { CredentialOptions, CredentialProvider } from '../coordinator.ts';
import { CREDENTIAL_PROVIDERS, MAX_MIN_VALIDITY_MS } from '../limits.ts';
import { invalid, requireInt, requireOneOf } from './validate.ts';

export function checkCredentialRequest(provider: unknown, options: unknown): { provider: CredentialProvider } & CredentialOptions {
  const checked = requireOneOf('provider', provider, CREDENTIAL_PROVIDERS);
  if (options === undefined || options === null) return { provider: checked };
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('credential options must be an object');
  const { minValidityMs, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalid(`unknown credential option ${JSON.stringify(unknown[0])} (known: minValidityMs)`);
  return minValidityMs === undefined ? { provider: checked } : { provider: checked, minValidityMs: requireInt('minValidityMs', minValidityMs, { min: 0, max: MAX_MIN_VALIDITY_MS }) };
}
