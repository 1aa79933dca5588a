// Credentials for model providers, as handed to callers: the secret to send
// and how to send it, never the refresh token (the daemon, as broker, keeps
// that to itself).
import { z } from 'zod';
import { CREDENTIAL_PROVIDERS, MAX_MIN_VALIDITY_MS } from '../limits.ts';

export const providerName = z.enum(CREDENTIAL_PROVIDERS).describe('The provider of the login.');

export const credentialOptions = z.strictObject({
  provider: providerName,
  minValidityMs: z
    .int()
    .min(0)
    .max(MAX_MIN_VALIDITY_MS)
    .optional()
    .describe('The token must stay valid at least this long (default 60000); a token closer to expiry is refreshed first.'),
});

export const credential = z.strictObject({
  provider: providerName,
  type: z.enum(['api-key', 'bearer']).describe("'api-key': send it in `x-goog-api-key`; 'bearer': an OAuth access token for `Authorization: Bearer`."),
  token: z.string().describe('The API key or access token. A secret: never log it.'),
  headers: z.record(z.string(), z.string()).describe('The request headers that carry it, ready to merge into a request.'),
  expiresAt: z.int().nullable().describe('When an access token expires (ms since the epoch); null for an API key.'),
  source: z.enum(['environment', 'store']).describe('Where it came from: an environment variable of the process that answered, or the stored login.'),
  project: z.string().nullable().describe('The Google Cloud project for Vertex AI (GCP_PROJECT_ID), if known.'),
  region: z.string().nullable().describe('The Vertex AI region (VERTEX_REGION), if known.'),
});
