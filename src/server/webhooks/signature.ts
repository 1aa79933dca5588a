// Standard Webhooks signing (https://www.standardwebhooks.com): a secret is
// `whsec_` + base64 of random bytes; a message is signed by HMAC-SHA256 over
// `<webhook-id>.<webhook-timestamp>.<body>` with the decoded bytes, and each
// signature travels as `v1,<base64>`, space-separated when several secrets
// sign (a rotation's overlap), so a receiver holding either one verifies.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';
/** 32 random bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 32;

export function newSecret(): string {
  return `${PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The three headers of a delivery, `timestamp` in whole seconds; one signature per secret, the current one first. */
export function signedHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' '),
  };
}
