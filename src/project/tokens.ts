// API tokens for the daemon's TCP listener, `baton_<id>_<secret>`: <id> is 8
// hex characters, <secret> 43 base64url characters (32 random bytes). Only
// the hex sha256 of each token is kept, in <stateDir>/tokens.json (mode 0600):
//   { "version": 1, "tokens": [ { "id", "name", "hash", "createdAt", "readOnly"? } ] }
// A read-only token may read everything and change nothing (a dashboard for
// onlookers, a monitor): the daemon refuses its mutations with PERMISSION_DENIED.
// `baton auth token` writes the file; the daemon's authenticator reads the hashes.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { serializeJson, writeFileAtomicSync } from '../files/atomic-write.ts';
import { withLock } from '../files/lock/lock.ts';
import { ensureStateDir, statePaths } from './state-dir.ts';

const TOKEN_PATTERN = /^baton_([0-9a-f]{8})_([A-Za-z0-9_-]{32,})$/;
const ID_PATTERN = /^[0-9a-f]{8}$/;
const MAX_NAME_LENGTH = 100;

export interface TokenInfo {
  id: string;
  name: string;
  /** When it was created, ms since the epoch. */
  createdAt: number;
  /** May only read (absent in files written before it existed: false). */
  readOnly: boolean;
}

export interface CreatedToken extends TokenInfo {
  /** The full token. Shown once: only its hash is stored. */
  token: string;
}

/** One entry of tokens.json. */
interface TokenRecord extends Omit<TokenInfo, 'readOnly'> {
  readOnly?: boolean;
  /** Hex sha256 of the full token. */
  hash: string;
}

interface TokenDocument {
  version: 1;
  tokens: TokenRecord[];
}

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
  if (typeof doc !== 'object' || doc === null || doc.version !== 1 || !Array.isArray(doc.tokens)) {
    throw corruptTokens(path, 'is not a version 1 token document ({"version":1,"tokens":[...]})');
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
      (r.readOnly === undefined || typeof r.readOnly === 'boolean');
    if (!ok) throw corruptTokens(path, `has a malformed entry at tokens[${i}]`);
  }
  return doc.tokens;
}

/** The stored tokens; none if the file does not exist. Written atomically, so read without a lock. */
function readTokenRecords(path: string): TokenRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'read', path);
  }
  return parseTokenDocument(path, text);
}

/** Replaces tokens.json (hold its lock). The file is kept at mode 0600. */
function writeTokenRecords(path: string, tokens: TokenRecord[]): void {
  const doc: TokenDocument = { version: 1, tokens };
  try {
    // An existing file keeps its mode across an atomic write: make sure it is ours alone.
    const info = statSync(path, { throwIfNoEntry: false });
    if (info !== undefined && (info.mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  } catch (error) {
    throw fsError(error, 'set the mode of', path);
  }
  writeFileAtomicSync(path, serializeJson(path, doc), { mode: 0o600 });
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw new BatonError('INVALID_ARGUMENT', `a token needs a name, got ${JSON.stringify(name)}`);
  if (name.length > MAX_NAME_LENGTH) throw new BatonError('INVALID_ARGUMENT', `a token name has at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new BatonError('INVALID_ARGUMENT', `a token name cannot hold control characters, got ${JSON.stringify(name)}`);
  return name;
}

/** Creates an API token. The returned `token` is the only copy: tokens.json keeps its hash. */
export async function createToken(stateDir: string, name: string, options: { readOnly?: boolean } = {}): Promise<CreatedToken> {
  const readOnly = options.readOnly === true;
  const checked = checkName(name);
  ensureStateDir(stateDir);
  const path = statePaths(stateDir).tokens;
  return withLock(path, () => {
    const tokens = readTokenRecords(path);
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (tokens.some((t) => t.id === id));
    const token = `baton_${id}_${randomBytes(32).toString('base64url')}`;
    const createdAt = Date.now();
    writeTokenRecords(path, [...tokens, { id, name: checked, hash: hashToken(token).toString('hex'), createdAt, ...(readOnly ? { readOnly } : {}) }]);
    return { id, name: checked, token, createdAt, readOnly };
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

/** The tokens, oldest first, without their hashes. */
export async function listTokens(stateDir: string): Promise<TokenInfo[]> {
  return readTokenRecords(statePaths(stateDir).tokens)
    .map(({ id, name, createdAt, readOnly }) => ({ id, name, createdAt, readOnly: readOnly === true }))
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The stored hashes (and whether read-only) by token id, read from `path` (tokens.json); none if the file does not exist. */
export function readTokenHashes(path: string): Map<string, { hash: Buffer; readOnly: boolean }> {
  const hashes = new Map<string, { hash: Buffer; readOnly: boolean }>();
  for (const t of readTokenRecords(path)) hashes.set(t.id, { hash: Buffer.from(t.hash, 'hex'), readOnly: t.readOnly === true });
  return hashes;
}
