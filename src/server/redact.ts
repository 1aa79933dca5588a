// What a log line must never carry: secrets. Fields are redacted by name (a
// header or a body field that holds a credential) and strings by shape (a
// bearer token, a webhook secret, a Google key or access token pasted into an
// error message), at any depth. Redaction is on the way out of the logger, so a
// caller that forgets cannot leak; the cost is one walk of each line's fields.

/** Field names whose values are secrets, compared lower-case with '-' and '_' removed. */
const SECRET_NAMES = new Set(
  [
    'authorization', 'proxy-authorization', 'cookie', 'set-cookie',
    'x-baton-signature', 'x-baton-session-token', 'token', 'access_token', 'refresh_token', 'id_token',
    'secret', 'client_secret', 'password', 'api_key', 'apikey', 'x-goog-api-key', 'credential', 'webhook_secret',
  ].map(normalName),
);

/** Secrets recognisable by their shape wherever they appear in a string. */
const SECRET_SHAPES: RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bwhsec_[A-Za-z0-9+/=]{8,}/g,
  /\bbaton_[A-Za-z0-9_-]{16,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\bya29\.[0-9A-Za-z_.-]{8,}/g,
];

/** A string none of SECRET_SHAPES can match lacks all of these. */
const MAYBE_SECRET = /bearer|basic|whsec_|baton_|AIza|ya29\./i;

export const REDACTED = '[redacted]';

function normalName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(normalName(name));
}

/** `text` with every secret-shaped run replaced (the scheme of an Authorization value kept, to say what it was). */
export function redactText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text; // most strings: one scan instead of five
  let out = text;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, (_match, scheme?: string) => (typeof scheme === 'string' ? `${scheme} ${REDACTED}` : REDACTED));
  return out;
}

/** A copy of `value` safe to log; cycles and depth past 8 are cut rather than followed. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 8) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) && v !== null && v !== undefined ? REDACTED : redact(v, depth + 1);
  return out;
}
