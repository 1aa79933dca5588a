// Authentication of the daemon's TCP requests. (The unix socket needs none:
// its directory's mode 0700 is the check.) Two kinds of credentials:
//
// API tokens, `baton_<id>_<secret>` (made by `baton auth token`; only their hashes
// are kept, in <stateDir>/tokens.json: project/tokens.ts). Sent as
// `Authorization: Bearer <token>`, or on GET requests only as the query
// parameter `access_token=<token>` (a browser's EventSource cannot set
// headers). The principal is `token:<id>`, with the token's scopes; an
// expired token is refused.
//
// Signed requests, with the HMAC keys in <stateDir>/hmac.key and, while their
// overlap lasts, the keys a rotation replaced (project/hmac-key.ts): headers
//   X-Baton-Timestamp: <ms since the epoch>
//   X-Baton-Signature: v1=<hex HMAC-SHA256(key, METHOD "\n" path?query "\n" timestamp "\n" hex sha256(body))>
//   X-Baton-Key-Id: <the key's id> (optional: without it every key that verifies now is tried)
// (built by src/protocol/signing.ts). A timestamp further than the replay
// window from our clock is refused, and so is a signature seen within the
// window or timestamped before the daemon started. The principal is `hmac`.
//
// Errors name token and key ids, never a token, a key or a signature's secret part.
import { timingSafeEqual } from 'node:crypto';
import { BatonError } from '../errors.ts';
import { fileVersion } from '../files/file-version.ts';
import type { TokenScope } from '../limits.ts';
import { ensureHmacSecret, HmacKeyFiles, type HmacKeys } from '../project/hmac-key.ts';
import { statePaths } from '../project/state-dir.ts';
import { hashToken, readTokenHashes, tokenId, type StoredToken } from '../project/tokens.ts';
import { KEY_ID_HEADER, KEY_ID_PATTERN, SIGNATURE_HEADER, SIGNATURE_VERSION, TIMESTAMP_HEADER, hmacKeyId, signBase, signatureBase } from '../protocol/signing.ts';

export const DEFAULT_REPLAY_WINDOW_MS = 300_000;
/** Signatures remembered at most; more signed requests within one window are refused (OVERLOADED). */
export const DEFAULT_MAX_SEEN_SIGNATURES = 500_000;

export interface AuthenticatorOptions {
  stateDir: string;
  /** How far a signed request's timestamp may be from our clock, either way, and how long a signature is remembered (default 300000). */
  replayWindowMs?: number;
  /** Bound of the seen-signature cache (default 500000). */
  maxSeenSignatures?: number;
  /**
   * Signatures timestamped earlier are refused (default: when this
   * authenticator was made). The seen signatures live in memory only, so one
   * made before a restart could otherwise be replayed after it.
   */
  notBefore?: number;
}

export interface AuthRequest {
  method: string;
  /** Path and query as sent on the request line. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export interface AuthResult {
  /** `token:<id>`, `hmac`, `ui:<id>` (a dashboard session) or `local` (the unix socket). */
  principal: string;
  /** May only read: mutations are refused with PERMISSION_DENIED (a read-only token or dashboard session: the scope `read` alone). */
  readOnly?: boolean;
  /** A token's scopes when they are neither full nor read alone (protocol/token-scopes.ts says what each grants). */
  scopes?: readonly TokenScope[];
  /** For `hmac`: the id of the key that signed. What the request opens (a dashboard session, a stream) lives while that key verifies. */
  keyId?: string;
  /** The projects a token reaches, by name; absent: the daemon's default project alone (unless admin). server/project-access.ts checks it. */
  projects?: readonly string[];
  /** Reaches every project and may create and archive them: an admin token, `hmac` (the state directory's key) and `local`. */
  admin?: boolean;
}

/**
 * The credential a request's lasting effects hang on: `token:<id>`,
 * `hmac:<key id>`, `ui:<id>`, `local`. A dashboard session records it as its
 * parent, and an open stream ends when it is revoked, expires or retires.
 */
export function credentialOf(who: AuthResult): string {
  return who.principal === 'hmac' && who.keyId !== undefined ? `hmac:${who.keyId}` : who.principal;
}

const refuse = (reason: string): BatonError => new BatonError('UNAUTHENTICATED', reason);

export class Authenticator {
  readonly stateDir: string;
  readonly replayWindowMs: number;
  readonly maxSeenSignatures: number;
  readonly notBefore: number;
  readonly #paths: { tokens: string; hmacKey: string };
  #tokens: { version: string | undefined; hashes: Map<string, StoredToken> } | undefined;
  #keys: HmacKeyFiles;
  /** Accepted signatures (hex) and when they may be forgotten. */
  readonly #seen = new Map<string, number>();
  #nextPrune = 0;

  constructor(options: AuthenticatorOptions) {
    const { stateDir, replayWindowMs = DEFAULT_REPLAY_WINDOW_MS, maxSeenSignatures = DEFAULT_MAX_SEEN_SIGNATURES, notBefore = Date.now() } = options;
    if (typeof stateDir !== 'string' || stateDir.length === 0) throw new BatonError('INVALID_ARGUMENT', `stateDir must be a non-empty string, got ${JSON.stringify(stateDir)}`);
    if (!Number.isFinite(replayWindowMs) || replayWindowMs <= 0) throw new BatonError('INVALID_ARGUMENT', `replayWindowMs must be a finite number > 0, got ${replayWindowMs}`);
    if (!Number.isSafeInteger(maxSeenSignatures) || maxSeenSignatures <= 0) {
      throw new BatonError('INVALID_ARGUMENT', `maxSeenSignatures must be a whole number > 0, got ${maxSeenSignatures}`);
    }
    this.stateDir = stateDir;
    this.replayWindowMs = replayWindowMs;
    this.maxSeenSignatures = maxSeenSignatures;
    if (!Number.isFinite(notBefore)) throw new BatonError('INVALID_ARGUMENT', `notBefore must be a finite time in ms, got ${notBefore}`);
    this.notBefore = notBefore;
    this.#paths = statePaths(stateDir);
    this.#keys = new HmacKeyFiles(this.#paths.hmacKey, { retiring: true });
  }

  /** Who sent the request, or an UNAUTHENTICATED error saying why not. */
  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const credentials = this.#credentials(req);
    if (credentials.kind === 'bearer') return this.#bearer(credentials.token);
    return this.#signed(req, credentials.signature, credentials.timestamp, credentials.keyId);
  }

  /**
   * What the headers alone settle, so a request with no valid credentials is
   * refused before its body is read: a bearer token all of it (returns the
   * principal); a signature its form and timestamp (returns undefined:
   * `authenticate` must still check it with the body).
   */
  async authenticateHeaders(req: Omit<AuthRequest, 'body'>): Promise<AuthResult | undefined> {
    const credentials = this.#credentials(req);
    if (credentials.kind === 'bearer') return this.#bearer(credentials.token);
    this.#signedHeaders(credentials.signature, credentials.timestamp, credentials.keyId);
    return undefined;
  }

  #credentials(
    req: Omit<AuthRequest, 'body'>,
  ): { kind: 'bearer'; token: string } | { kind: 'signed'; signature: string | undefined; timestamp: string | undefined; keyId: string | undefined } {
    const authorization = header(req.headers, 'authorization');
    if (authorization !== undefined) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
      if (match === null) throw refuse("unsupported Authorization header: use 'Authorization: Bearer <token>'");
      return { kind: 'bearer', token: match[1]! };
    }
    const signature = header(req.headers, SIGNATURE_HEADER);
    const timestamp = header(req.headers, TIMESTAMP_HEADER);
    if (signature !== undefined || timestamp !== undefined) return { kind: 'signed', signature, timestamp, keyId: header(req.headers, KEY_ID_HEADER) };
    const queryToken = accessToken(req.path);
    if (queryToken !== undefined) {
      if (req.method.toUpperCase() !== 'GET') throw refuse('access_token in the query is accepted on GET requests only; send Authorization: Bearer <token>');
      return { kind: 'bearer', token: queryToken };
    }
    throw refuse(`no credentials: send 'Authorization: Bearer <token>' or sign the request (${TIMESTAMP_HEADER}, ${SIGNATURE_HEADER})`);
  }

  /** Whether a token with this id may be used (not revoked, not expired): what a dashboard session minted with it lives by. */
  tokenLive(id: string, now = Date.now()): boolean {
    const stored = this.#tokenHashes().get(id);
    return stored !== undefined && (stored.expiresAt === null || now < stored.expiresAt);
  }

  /** Whether the HMAC key with this id verifies now: the current key, or one still in its overlap. */
  keyLive(keyId: string, now = Date.now()): boolean {
    const keys = this.#keys.read();
    if (keys === undefined) return false;
    return hmacKeyId(keys.current) === keyId || keys.retiring.some((k) => k.retiresAt > now && hmacKeyId(k.key) === keyId);
  }

  /**
   * Whether a credential (see credentialOf) may still be used: a token not
   * revoked or expired, a key current or in its overlap. Others (local, a
   * bare `hmac` from before key ids) hold as long as the daemon runs.
   */
  credentialLive(credential: string, now = Date.now()): boolean {
    if (credential.startsWith('token:')) return this.tokenLive(credential.slice('token:'.length), now);
    if (credential.startsWith('hmac:')) return this.keyLive(credential.slice('hmac:'.length), now);
    return true;
  }

  /** Forgets the cached token file and keys (they are re-read when they change anyway). */
  reload(): void {
    this.#tokens = undefined;
    this.#keys = new HmacKeyFiles(this.#paths.hmacKey, { retiring: true });
  }

  #bearer(token: string): AuthResult {
    const id = tokenId(token);
    if (id === undefined) throw refuse('malformed bearer token: want baton_<id>_<secret> (from baton auth token create)');
    const stored = this.#tokenHashes().get(id);
    const presented = hashToken(token);
    // Compare even for an unknown id, so the time taken does not tell ids apart.
    const same = timingSafeEqual(presented, stored?.hash ?? Buffer.alloc(presented.length));
    if (stored === undefined || !same) throw refuse(`bearer token ${id} is unknown or revoked`);
    // Only the token's holder learns that it expired: the check comes after the secret's.
    if (stored.expiresAt !== null && Date.now() >= stored.expiresAt) throw refuse(`token ${id} expired at ${new Date(stored.expiresAt).toISOString()}; make a new one with baton auth token create`);
    const principal = `token:${id}`;
    const { scopes } = stored;
    const reach = { ...(stored.projects === null ? {} : { projects: stored.projects }), ...(stored.admin ? { admin: true } : {}) };
    if (scopes.length === 1 && scopes[0] === 'full') return { principal, ...reach };
    if (scopes.length === 1 && scopes[0] === 'read') return { principal, readOnly: true, ...reach };
    return { principal, scopes, ...reach };
  }

  #tokenHashes(): Map<string, StoredToken> {
    const path = this.#paths.tokens;
    const version = fileVersion(path);
    if (this.#tokens === undefined || this.#tokens.version !== version) {
      this.#tokens = { version, hashes: version === undefined ? new Map() : readTokenHashes(path) };
    }
    return this.#tokens.hashes;
  }

  /** The keys now (made on first use), re-read when a rotation changed them. */
  async #hmacKeys(): Promise<HmacKeys> {
    const keys = this.#keys.read();
    if (keys !== undefined) return keys;
    await ensureHmacSecret(this.stateDir);
    const made = this.#keys.read();
    if (made === undefined) throw new BatonError('NOT_FOUND', `HMAC key ${this.#paths.hmacKey} vanished while it was being read`, { details: { path: this.#paths.hmacKey } });
    return made;
  }

  /**
   * Passes when a key that verifies now made the signature; otherwise
   * UNAUTHENTICATED saying why. With a key id, that key alone; without one (a
   * client from before key ids), each key that verifies now. A key whose
   * overlap ended verifies nothing: it is only recognised, to say so, and only
   * to a signer who holds it (the signature is checked first).
   */
  async #verify(req: AuthRequest, given: string, ts: string, keyId: string | undefined): Promise<string> {
    const { current, retiring } = await this.#hmacKeys();
    const now = Date.now();
    // The body is hashed once, however many keys are tried.
    const base = signatureBase(req.method, req.path, ts, req.body);
    const matches = (key: Buffer): boolean => timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(signBase(key, base), 'hex'));
    const retired = (id: string, at: number): BatonError =>
      refuse(`key ${id} was retired at ${new Date(at).toISOString()} (replaced by baton auth rotate-key; its overlap ended): sign with the current key`);
    if (keyId !== undefined) {
      const named = hmacKeyId(current) === keyId ? { key: current, retiresAt: Infinity } : retiring.find((k) => hmacKeyId(k.key) === keyId);
      if (named === undefined) throw refuse(`signature does not match: key ${keyId} is not one of this daemon's keys (a wrong secret, or a key retired before the last rotation)`);
      if (!matches(named.key)) throw refuse(`signature does not match the request: the method, path, timestamp or body differ from what was signed with key ${keyId}`);
      if (named.retiresAt <= now) throw retired(keyId, named.retiresAt);
      return keyId;
    }
    if (matches(current)) return hmacKeyId(current);
    const overlapping = retiring.find((k) => k.retiresAt > now && matches(k.key));
    if (overlapping !== undefined) return hmacKeyId(overlapping.key);
    const ended = retiring.find((k) => k.retiresAt <= now && matches(k.key));
    if (ended !== undefined) throw retired(hmacKeyId(ended.key), ended.retiresAt);
    throw refuse('signature does not match the request: wrong secret, or the method, path, timestamp or body differ from what was signed');
  }

  async #signed(req: AuthRequest, signature: string | undefined, timestamp: string | undefined, keyId: string | undefined): Promise<AuthResult> {
    const { given, ts, sent } = this.#signedHeaders(signature, timestamp, keyId);
    const signedWith = await this.#verify(req, given, ts, keyId);
    // Checked and recorded with no await in between: two copies of one request cannot both pass.
    const now = Date.now();
    this.#prune(now);
    const until = this.#seen.get(given);
    if (until !== undefined && until >= now) throw refuse('signature already used (a replay); sign each request afresh');
    if (this.#seen.size >= this.maxSeenSignatures) {
      throw new BatonError('OVERLOADED', `more than ${this.maxSeenSignatures} signed requests within the ${this.replayWindowMs} ms replay window; try again later`);
    }
    // The timestamp is refused after sent + window, so the signature need not be remembered longer.
    this.#seen.set(given, sent + this.replayWindowMs);
    // The key is readable only by the machine's user, who owns every project's store anyway.
    return { principal: 'hmac', keyId: signedWith, admin: true };
  }

  /** The signature headers' form and the timestamp's window: the signature (lower-case hex), the timestamp as sent and as a number. */
  #signedHeaders(signature: string | undefined, timestamp: string | undefined, keyId: string | undefined): { given: string; ts: string; sent: number } {
    if (timestamp === undefined) throw refuse(`${SIGNATURE_HEADER} without ${TIMESTAMP_HEADER}`);
    if (signature === undefined) throw refuse(`${TIMESTAMP_HEADER} without ${SIGNATURE_HEADER}`);
    // Not echoed: a malformed id may be anything, a key pasted in the wrong header too.
    if (keyId !== undefined && !KEY_ID_PATTERN.test(keyId)) throw refuse(`malformed ${KEY_ID_HEADER}: want the key's id, 8 lower-case hex characters`);
    if (!/^\d{1,16}$/.test(timestamp.trim())) throw refuse(`malformed ${TIMESTAMP_HEADER}: want milliseconds since the epoch, got ${JSON.stringify(timestamp.slice(0, 40))}`);
    const sigMatch = new RegExp(`^${SIGNATURE_VERSION}=([0-9a-fA-F]{64})$`).exec(signature.trim());
    if (sigMatch === null) throw refuse(`malformed ${SIGNATURE_HEADER}: want ${SIGNATURE_VERSION}=<64 hex characters>`);
    const ts = timestamp.trim();
    const sent = Number(ts);
    const skew = Date.now() - sent;
    if (Math.abs(skew) > this.replayWindowMs) {
      const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;
      throw refuse(`${TIMESTAMP_HEADER} is ${secs(Math.abs(skew))} ${skew > 0 ? 'old' : 'in the future'}, outside the ${secs(this.replayWindowMs)} replay window (check the clocks)`);
    }
    if (sent < this.notBefore) {
      throw refuse(`${TIMESTAMP_HEADER} ${ts} is from before this daemon started (${this.notBefore}): it may be a replay from before a restart; sign the request afresh (or check the clocks)`);
    }
    return { given: sigMatch[1]!.toLowerCase(), ts, sent };
  }

  /** Drops signatures whose timestamps have left the window: at most every tenth of a window (or second), or when full. */
  #prune(now: number): void {
    if (now < this.#nextPrune && this.#seen.size < this.maxSeenSignatures) return;
    for (const [sig, until] of this.#seen) if (until < now) this.#seen.delete(sig);
    this.#nextPrune = now + Math.max(1000, Math.min(this.replayWindowMs / 10, 30_000));
  }

  /** How many signatures are remembered (for metrics and tests). */
  get seenSignatures(): number {
    return this.#seen.size;
  }
}

/** A header by case-insensitive name; a repeated one is refused. */
function header(headers: AuthRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  let found: string | string[] | undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== wanted || v === undefined) continue;
    if (found !== undefined) throw refuse(`more than one ${name} header`);
    found = v;
  }
  if (Array.isArray(found)) {
    if (found.length > 1) throw refuse(`more than one ${name} header`);
    return found[0];
  }
  return found;
}

/** The access_token query parameter, if any; more than one is refused. */
function accessToken(pathWithQuery: string): string | undefined {
  const q = pathWithQuery.indexOf('?');
  if (q === -1) return undefined;
  const query = pathWithQuery.slice(q + 1).split('#')[0]!;
  const values = new URLSearchParams(query).getAll('access_token');
  if (values.length > 1) throw refuse('more than one access_token query parameter');
  return values[0];
}
