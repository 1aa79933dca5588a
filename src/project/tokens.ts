// API tokens for the daemon's TCP listener, `baton_<id>_<secret>`: <id> is 8
// hex characters, <secret> 43 base64url characters (32 random bytes). Only
// the hex sha256 of each token is kept, in <stateDir>/tokens.json (mode 0600):
//   { "version": 1 | 2 | 3, "tokens": [ { "id", "name", "hash", "createdAt", "readOnly"?, "scopes"?, "expiresAt"?, "projects"?, "admin"? } ] }
// A token's scopes (limits.ts TOKEN_SCOPES; protocol/token-scopes.ts says what
// each grants) are stored as in the first version where it can: none for full,
// `readOnly: true` for read alone, `scopes` otherwise. A file that needs
// `scopes` or `expiresAt` is written as version 2, which a daemon from before
// them refuses whole: it would otherwise take a narrowed or expired token for
// a full one. Likewise a file that needs `projects` (the projects a token
// reaches; none: the daemon's default project alone, as every token before)
// or `admin` (every project, and making and archiving them) is version 3,
// which a daemon from before projects refuses whole rather than serve a
// scoped token in a store that knows no projects.
// `baton auth token` writes the file; the daemon reads the hashes.
import { statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { serializeJson } from '../files/atomic-write.ts';
import { withLock } from '../files/lock/lock.ts';
import { readPrivateFileSync, writePrivateFileSync } from '../files/private-file.ts';
import { MAX_TIME_MS, PROJECT_NAME_PATTERN, TOKEN_SCOPES, type TokenScope } from '../limits.ts';
import { checkProjectName } from './project-name.ts';
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
  /** The projects it reaches, by name; null: the daemon's default project alone. */
  projects: string[] | null;
  /** Reaches every project, and may create and archive them. */
  admin: boolean;
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
  /** The projects it reaches; null: the daemon's default project alone. */
  projects: string[] | null;
  admin: boolean;
}

/** One entry of tokens.json. */
interface TokenRecord {
  id: string;
  name: string;
  createdAt: number;
  readOnly?: boolean;
  scopes?: TokenScope[];
  expiresAt?: number;
  /** Written only when given (version 3): at least one name. */
  projects?: string[];
  /** Written only when true (version 3). */
  admin?: boolean;
  /** Hex sha256 of the full token. */
  hash: string;
}

interface TokenDocument {
  version: 1 | 2 | 3;
  tokens: TokenRecord[];
}

const isScope = (s: unknown): s is TokenScope => (TOKEN_SCOPES as readonly unknown[]).includes(s);
const isProjectName = (s: unknown): s is string => typeof s === 'string' && PROJECT_NAME_PATTERN.test(s);

/** Project names as given, checked, each once, in the order given; none is refused (leave them out for the default project). */
export function normalizeProjects(projects: readonly string[]): string[] {
  if (projects.length === 0) throw new BatonError('INVALID_ARGUMENT', 'a token scoped to projects needs at least one project name (none: the default project alone)');
  return [...new Set(projects.map((p) => checkProjectName(p, "a token's project")))];
}

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
/** A record's projects and admin flag: absent in files before projects, which is the default project alone. */
const reachOf = (r: TokenRecord): { projects: string[] | null; admin: boolean } => ({ projects: r.projects ?? null, admin: r.admin === true });
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
  if (typeof doc !== 'object' || doc === null || (doc.version !== 1 && doc.version !== 2 && doc.version !== 3) || !Array.isArray(doc.tokens)) {
    throw corruptTokens(path, 'is not a version 1, 2 or 3 token document ({"version":3,"tokens":[...]})');
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
      (r.expiresAt === undefined || Number.isSafeInteger(r.expiresAt)) &&
      (r.projects === undefined || (Array.isArray(r.projects) && r.projects.length > 0 && r.projects.every(isProjectName))) &&
      (r.admin === undefined || typeof r.admin === 'boolean');
    if (!ok) throw corruptTokens(path, `has a malformed entry at tokens[${i}]`);
  }
  return doc.tokens;
}

/** The stored tokens; none if the file does not exist. Written atomically, so read without a lock. */
function readTokenRecords(path: string): TokenRecord[] {
  const text = readPrivateFileSync(path);
  return text === undefined ? [] : parseTokenDocument(path, text);
}

/** The oldest version that holds every entry: a daemon reads what it knows, and refuses what it would misread. */
function versionFor(tokens: readonly TokenRecord[]): TokenDocument['version'] {
  if (tokens.some((t) => t.projects !== undefined || t.admin !== undefined)) return 3;
  return tokens.some((t) => t.scopes !== undefined || t.expiresAt !== undefined) ? 2 : 1;
}

/** Replaces tokens.json (hold its lock). The file is kept at mode 0600, at the oldest version that holds it. */
function writeTokenRecords(path: string, tokens: TokenRecord[]): void {
  const doc: TokenDocument = { version: versionFor(tokens), tokens };
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
  /** The projects it reaches, by name (default: the daemon's default project alone). */
  projects?: readonly string[];
  /** Reaches every project and may create and archive them; not with `projects`. */
  admin?: boolean;
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
  if (options.admin === true && options.projects !== undefined) {
    throw new BatonError('INVALID_ARGUMENT', 'an admin token reaches every project: give admin or projects, not both');
  }
  const projects = options.projects === undefined ? undefined : normalizeProjects(options.projects);
  const admin = options.admin === true;
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
    const reach = { ...(projects === undefined ? {} : { projects }), ...(admin ? { admin } : {}) };
    const record = { id, name: checked, hash: hashToken(token).toString('hex'), createdAt, ...stored, ...(expiresAt === undefined ? {} : { expiresAt }), ...reach };
    writeTokenRecords(path, [...tokens, record]);
    return { id, name: checked, token, createdAt, readOnly, scopes, expiresAt: expiresAt ?? null, projects: projects ?? null, admin };
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
      return { id: r.id, name: r.name, createdAt: r.createdAt, readOnly: isReadOnly(scopes), scopes, expiresAt: r.expiresAt ?? null, ...reachOf(r) };
    })
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The stored hashes, scopes and expiries by token id, read from `path` (tokens.json); none if the file does not exist. */
export function readTokenHashes(path: string): Map<string, StoredToken> {
  const hashes = new Map<string, StoredToken>();
  for (const t of readTokenRecords(path)) hashes.set(t.id, { hash: Buffer.from(t.hash, 'hex'), scopes: scopesOf(t), expiresAt: t.expiresAt ?? null, ...reachOf(t) });
  return hashes;
}
