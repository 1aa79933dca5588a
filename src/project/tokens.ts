// API tokens for the daemon's TCP listener, `baton_<id>_<secret>`: <id> is 8
// hex characters, <secret> 43 base64url characters (32 random bytes). Only
// the hex sha256 of each token is kept, in <stateDir>/tokens.json (mode 0600):
//   { "version": 1 | 2, "tokens": [ { "id", "name", "hash", "createdAt", "readOnly"?, "scopes"?, "expiresAt"? } ] }
// A token's scopes (limits.ts TOKEN_SCOPES; protocol/token-scopes.ts says what
// each grants) are stored as in the first version where it can: none for full,
// `readOnly: true` for read alone, `scopes` otherwise. A file that needs
// `scopes` or `expiresAt` is written as version 2, which a daemon from before
// them refuses whole: it would otherwise take a narrowed or expired token for
// a full one. `baton auth token` writes the file; the daemon reads the hashes.
import { statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { serializeJson } from '../files/atomic-write.ts';
import { withLock } from '../files/lock/lock.ts';
import { readPrivateFileSync, writePrivateFileSync } from '../files/private-file.ts';
import { MAX_TIME_MS, TOKEN_SCOPES, type TokenScope } from '../limits.ts';
import { ensureStateDir, statePaths } from './state-dir.ts';

const TOKEN_PATTERN = /^baton_([0-9a-f]{8})_([A-Za-z0-9_-]{32,})$/;
const ID_PATTERN = /^[0-9a-f]{8}$/;
const MAX_NAME_LENGTH = 100;

export interface TokenInfo {
  id: string;
  name: string;
  /** When it was created, ms since the epoch. */
  createdAt: number;
  /** May only read: its scopes are `read` alone. */
  readOnly: boolean;
  /** What it may do: `full`, or some of `read`, `tasks`, `files` (in TOKEN_SCOPES order). */
  scopes: TokenScope[];
  /** When it stops working, ms since the epoch; null: never. */
  expiresAt: number | null;
}

export interface CreatedToken extends TokenInfo {
  /** The full token. Shown once: only its hash is stored. */
  token: string;
}

/** What the daemon checks a token against. */
export interface StoredToken {
  /** sha256 of the full token. */
  hash: Buffer;
  scopes: TokenScope[];
  expiresAt: number | null;
}

/** One entry of tokens.json. */
interface TokenRecord {
  id: string;
  name: string;
  createdAt: number;
  readOnly?: boolean;
  scopes?: TokenScope[];
  expiresAt?: number;
  /** Hex sha256 of the full token. */
  hash: string;
}

interface TokenDocument {
  version: 1 | 2;
  tokens: TokenRecord[];
}

const isScope = (s: unknown): s is TokenScope => (TOKEN_SCOPES as readonly unknown[]).includes(s);

/**
 * Scopes as given, checked and in canonical form: known, each once, in
 * TOKEN_SCOPES order, `full` alone (it holds the rest); none means full.
 */
export function normalizeScopes(scopes: readonly string[]): TokenScope[] {
  for (const s of scopes) {
    if (!isScope(s)) throw new BatonError('INVALID_ARGUMENT', `unknown token scope ${JSON.stringify(s)}: want ${TOKEN_SCOPES.join(', ')}`);
  }
  if (scopes.length === 0 || scopes.includes('full')) return ['full'];
  return TOKEN_SCOPES.filter((s) => scopes.includes(s));
}

/** A record's scopes: `scopes` if written, else read or full by `readOnly` (files before scopes). */
const scopesOf = (r: TokenRecord): TokenScope[] => r.scopes ?? (r.readOnly === true ? ['read'] : ['full']);
const isReadOnly = (scopes: readonly TokenScope[]): boolean => scopes.length === 1 && scopes[0] === 'read';

/** The sha256 of a full token: what tokens.json keeps of it. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The id of a token of the form `baton_<id>_<secret>`, or undefined for anything else. */
export function tokenId(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

function corruptTokens(path: string, why: string, cause?: unknown): BatonError {
  return new BatonError('CORRUPT_FILE', `token file ${path} ${why}; it was left untouched`, { cause, details: { path } });
}

function parseTokenDocument(path: string, text: string): TokenRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corruptTokens(path, text.length === 0 ? 'is empty' : `is not valid JSON (${(error as Error).message})`, error);
  }
  const doc = value as Partial<TokenDocument> | null;
  if (typeof doc !== 'object' || doc === null || (doc.version !== 1 && doc.version !== 2) || !Array.isArray(doc.tokens)) {
    throw corruptTokens(path, 'is not a version 1 or 2 token document ({"version":2,"tokens":[...]})');
  }
  for (const [i, t] of doc.tokens.entries()) {
    const r = t as Partial<TokenRecord> | null;
    const ok =
      typeof r === 'object' &&
      r !== null &&
      typeof r.id === 'string' &&
      ID_PATTERN.test(r.id) &&
      typeof r.name === 'string' &&
      typeof r.hash === 'string' &&
      /^[0-9a-f]{64}$/.test(r.hash) &&
      typeof r.createdAt === 'number' &&
      (r.readOnly === undefined || typeof r.readOnly === 'boolean') &&
      (r.scopes === undefined || (Array.isArray(r.scopes) && r.scopes.length > 0 && r.scopes.every(isScope))) &&
      (r.expiresAt === undefined || Number.isSafeInteger(r.expiresAt));
    if (!ok) throw corruptTokens(path, `has a malformed entry at tokens[${i}]`);
  }
  return doc.tokens;
}

/** The stored tokens; none if the file does not exist. Written atomically, so read without a lock. */
function readTokenRecords(path: string): TokenRecord[] {
  const text = readPrivateFileSync(path);
  return text === undefined ? [] : parseTokenDocument(path, text);
}

/** Replaces tokens.json (hold its lock). The file is kept at mode 0600; version 1 while every entry fits it. */
function writeTokenRecords(path: string, tokens: TokenRecord[]): void {
  const doc: TokenDocument = { version: tokens.some((t) => t.scopes !== undefined || t.expiresAt !== undefined) ? 2 : 1, tokens };
  writePrivateFileSync(path, serializeJson(path, doc));
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw new BatonError('INVALID_ARGUMENT', `a token needs a name, got ${JSON.stringify(name)}`);
  if (name.length > MAX_NAME_LENGTH) throw new BatonError('INVALID_ARGUMENT', `a token name has at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new BatonError('INVALID_ARGUMENT', `a token name cannot hold control characters, got ${JSON.stringify(name)}`);
  return name;
}

export interface CreateTokenOptions {
  /** The same as scopes ['read']. */
  readOnly?: boolean;
  /** What it may do (default: full). */
  scopes?: readonly string[];
  /** How long after its creation it stops working, ms (default: never). */
  expiresInMs?: number;
}

/** Creates an API token. The returned `token` is the only copy: tokens.json keeps its hash. */
export async function createToken(stateDir: string, name: string, options: CreateTokenOptions = {}): Promise<CreatedToken> {
  if (options.readOnly === true && options.scopes !== undefined) throw new BatonError('INVALID_ARGUMENT', 'readOnly is the scope read: give readOnly or scopes, not both');
  const scopes = normalizeScopes(options.readOnly === true ? ['read'] : (options.scopes ?? []));
  const { expiresInMs } = options;
  const createdAt = Date.now();
  const expiresAt = expiresInMs === undefined ? undefined : createdAt + expiresInMs;
  if (expiresAt !== undefined && (!Number.isSafeInteger(expiresInMs) || expiresInMs! <= 0 || expiresAt > MAX_TIME_MS)) {
    throw new BatonError('INVALID_ARGUMENT', `expiresInMs must be whole milliseconds > 0 ending before the year 10000, got ${expiresInMs}`);
  }
  const checked = checkName(name);
  ensureStateDir(stateDir);
  const path = statePaths(stateDir).tokens;
  return withLock(path, () => {
    const tokens = readTokenRecords(path);
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (tokens.some((t) => t.id === id));
    const token = `baton_${id}_${randomBytes(32).toString('base64url')}`;
    const readOnly = isReadOnly(scopes);
    // As a file from before scopes would say it, where it can (see the top of this file).
    const stored = readOnly ? { readOnly } : scopes[0] === 'full' ? {} : { scopes };
    writeTokenRecords(path, [...tokens, { id, name: checked, hash: hashToken(token).toString('hex'), createdAt, ...stored, ...(expiresAt === undefined ? {} : { expiresAt }) }]);
    return { id, name: checked, token, createdAt, readOnly, scopes, expiresAt: expiresAt ?? null };
  });
}

/** Revokes a token by id; false if there is none with that id. Takes effect on the daemon's next request. */
export async function revokeToken(stateDir: string, id: string): Promise<boolean> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return false;
  const path = statePaths(stateDir).tokens;
  // Nothing stored, nothing to revoke (and no lock file to make in a directory that may not exist).
  let exists: boolean;
  try {
    exists = statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOTDIR') return false;
    throw fsError(error, 'read', path);
  }
  if (!exists) return false;
  return withLock(path, () => {
    const tokens = readTokenRecords(path);
    const kept = tokens.filter((t) => t.id !== id);
    if (kept.length === tokens.length) return false;
    writeTokenRecords(path, kept);
    return true;
  });
}

/** The tokens, oldest first, without their hashes (expired ones too: they stay until revoked). */
export async function listTokens(stateDir: string): Promise<TokenInfo[]> {
  return readTokenRecords(statePaths(stateDir).tokens)
    .map((r) => {
      const scopes = scopesOf(r);
      return { id: r.id, name: r.name, createdAt: r.createdAt, readOnly: isReadOnly(scopes), scopes, expiresAt: r.expiresAt ?? null };
    })
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The stored hashes, scopes and expiries by token id, read from `path` (tokens.json); none if the file does not exist. */
export function readTokenHashes(path: string): Map<string, StoredToken> {
  const hashes = new Map<string, StoredToken>();
  for (const t of readTokenRecords(path)) hashes.set(t.id, { hash: Buffer.from(t.hash, 'hex'), scopes: scopesOf(t), expiresAt: t.expiresAt ?? null });
  return hashes;
}
