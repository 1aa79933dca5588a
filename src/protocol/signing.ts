// Request signing with the daemon's HMAC keys (<stateDir>/hmac.key, the current
// one, and keys replaced by `baton auth rotate-key` while their overlap lasts).
//
// Scheme v1. A signed request carries two headers, and should carry a third:
//
//   X-Baton-Timestamp: <milliseconds since the epoch, decimal>
//   X-Baton-Signature: v1=<hex HMAC-SHA256(key, base)>
//   X-Baton-Key-Id:    <the key's id: 8 hex characters>
//
// where `base` is four lines joined by "\n" (no trailing newline):
//
//   METHOD            upper case, e.g. POST
//   path?query        exactly as sent on the request line, e.g. /v1/leases?wait=1
//   timestamp         the X-Baton-Timestamp value
//   hex sha256(body)  of the raw body bytes (sha256 of nothing for an empty body)
//
// The key is the 32 raw bytes that hmac.key holds as 64 hex characters. Its id
// is the first 8 hex characters of sha256("baton-hmac-key-id\n" + key bytes):
// derived, not stored, so a key file of any age has one and whoever holds the
// secret can name it (as AWS SigV4's access key id or RFC 9421's keyid name the
// key). The id travels in its own header, as RFC 9421 keeps keyid apart from
// the signature: a daemon from before ids ignores it, and a request without it
// (a client from before) is checked against every key that verifies now. The
// id only picks the key; the HMAC decides, so the id needs no signing.
//
// The daemon refuses a timestamp more than its replay window (default 5
// minutes) from its clock, a signature it has already accepted within the
// window, and a key whose overlap has ended. The same functions build the
// base on both sides, so they cannot drift apart.
import { createHash, createHmac } from 'node:crypto';
import { BatonError } from '../errors.ts';

export const TIMESTAMP_HEADER = 'X-Baton-Timestamp';
export const SIGNATURE_HEADER = 'X-Baton-Signature';
export const KEY_ID_HEADER = 'X-Baton-Key-Id';
/** A key id: 8 lower-case hex characters. */
export const KEY_ID_PATTERN = /^[0-9a-f]{8}$/;
/** The prefix of the signature header's value. */
export const SIGNATURE_VERSION = 'v1';

/** The HMAC key: raw bytes as given, or a string of hex (hmac.key's content; surrounding whitespace ignored). */
export function hmacKeyBytes(secret: Uint8Array | string): Uint8Array {
  if (secret instanceof Uint8Array) {
    if (secret.length === 0) throw new BatonError('INVALID_ARGUMENT', 'the HMAC secret is empty');
    return secret;
  }
  if (typeof secret !== 'string') throw new BatonError('INVALID_ARGUMENT', `the HMAC secret must be bytes or a hex string, got ${typeof secret}`);
  const hex = secret.trim();
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new BatonError('INVALID_ARGUMENT', 'the HMAC secret string must be hex (the content of hmac.key)');
  }
  return Buffer.from(hex, 'hex');
}

/** The id of an HMAC key (see the scheme above): names it in signatures, logs and `baton auth rotate-key`, never reveals it. */
export function hmacKeyId(secret: Uint8Array | string): string {
  return createHash('sha256').update('baton-hmac-key-id\n').update(hmacKeyBytes(secret)).digest('hex').slice(0, 8);
}

/** Hex sha256 of a body; a string body is hashed as UTF-8. */
export function bodyDigest(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The string that is signed (see the scheme above). */
export function signatureBase(method: string, pathWithQuery: string, timestamp: string, body: Uint8Array | string): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${bodyDigest(body)}`;
}

/** Hex HMAC-SHA256 of the signature base: the part after `v1=`. */
export function computeSignature(secret: Uint8Array | string, method: string, pathWithQuery: string, timestamp: string, body: Uint8Array | string): string {
  return signBase(secret, signatureBase(method, pathWithQuery, timestamp, body));
}

/** Hex HMAC-SHA256 of a base already built (a verifier trying several keys hashes the body once). */
export function signBase(secret: Uint8Array | string, base: string): string {
  return createHmac('sha256', hmacKeyBytes(secret)).update(base).digest('hex');
}

/**
 * The headers that authenticate one request to the daemon: the timestamp, the
 * signature and the key's id. Sign each request afresh: the daemon accepts a
 * signature once.
 */
export function signRequest(
  secret: Uint8Array | string,
  method: string,
  pathWithQuery: string,
  body: Uint8Array | string,
  now: number = Date.now(),
): Record<string, string> {
  if (!Number.isSafeInteger(now) || now < 0) throw new BatonError('INVALID_ARGUMENT', `now must be whole milliseconds since the epoch, got ${now}`);
  if (typeof pathWithQuery !== 'string' || !pathWithQuery.startsWith('/')) {
    throw new BatonError('INVALID_ARGUMENT', `pathWithQuery must start with "/", got ${JSON.stringify(pathWithQuery)}`);
  }
  const timestamp = String(now);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `${SIGNATURE_VERSION}=${computeSignature(secret, method, pathWithQuery, timestamp, body)}`,
    [KEY_ID_HEADER]: hmacKeyId(secret),
  };
}
