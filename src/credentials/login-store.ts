// Where a provider's login lives: <dir>/<provider>.json, mode 0600 in a 0700
// directory, written whole (atomic replace) and only under the baton lock
// <dir>/<provider>.json.lock, which the refresher holds too. The file says
// where the secret is: in itself ("file"), or in the OS keyring ("keyring",
// and the file then holds no secret). Each write bumps `generation`, so a
// reader's cache is checked by one small read and the keyring is read only
// when it changed.
//
// The file is not encrypted: anyone who can read it as you can use the login,
// as with gemini-cli's and gcloud's files. A key baked into the program would
// only pretend otherwise. The keyring is the stronger place where there is one.
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { readPrivateFileSync, writePrivateFileSync } from '../files/private-file.ts';
import { withLock } from '../files/lock/lock.ts';
import { makePrivateDirectory } from '../files/private-directory.ts';
import { keyringDelete, keyringGet, keyringSet, keyringWorks } from './keyring.ts';
import type { Provider } from './providers.ts';
import { parseStoredLogin, type StoredLogin } from './stored-login.ts';

export type StoreLocation = 'keyring' | 'file';
/** Where a new login goes: the keyring when one answers ('auto', the default), or always one of them (BATON_CREDENTIAL_STORE). */
export type StorePreference = StoreLocation | 'auto';

export interface LoginEntry {
  login: StoredLogin;
  location: StoreLocation;
  generation: number;
}

/** The directory of baton's logins: $BATON_CREDENTIALS_DIR, else $XDG_CONFIG_HOME/baton/credentials, else ~/.config/baton/credentials. */
export function credentialsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BATON_CREDENTIALS_DIR) return resolve(env.BATON_CREDENTIALS_DIR);
  return join(env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config'), 'baton', 'credentials');
}

export function storePreference(env: NodeJS.ProcessEnv = process.env): StorePreference {
  const value = env.BATON_CREDENTIAL_STORE ?? 'auto';
  if (value === 'auto' || value === 'keyring' || value === 'file') return value;
  throw new BatonError('INVALID_ARGUMENT', `BATON_CREDENTIAL_STORE must be auto, keyring or file, got ${JSON.stringify(value)}`);
}

/** How long to wait for another process's refresh or login before giving up. */
const LOCK_TIMEOUT_MS = 60_000;

export class LoginStore {
  readonly dir: string;
  readonly provider: Provider;
  readonly path: string;

  constructor(dir: string, provider: Provider) {
    this.dir = dir;
    this.provider = provider;
    this.path = join(dir, `${provider}.json`);
  }

  /** The keyring account: the provider and this directory, so two directories (a test's, yours) never share an entry. */
  get #account(): string {
    return `${this.provider}@${this.dir}`;
  }

  /** Runs fn holding the store's lock: logins, refreshes and logouts take turns, across processes. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    this.#ensureDir();
    return withLock(this.path, fn, { timeout: LOCK_TIMEOUT_MS });
  }

  /** The directory, made 0700; one that exists is narrowed to 0700 if it is ours (it holds nothing but logins). */
  #ensureDir(): void {
    try {
      if (makePrivateDirectory(this.dir) === undefined) {
        const info = statSync(this.dir);
        if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) chmodSync(this.dir, 0o700);
      }
    } catch (error) {
      throw fsError(error, 'make the credentials directory', this.dir);
    }
  }

  /**
   * The login file's text, or undefined when there is no login. Small (a
   * pointer, or one login), and it changes with every write (its generation):
   * a reader keeps the entry it parsed while the text is the same. (A stat is
   * not enough: an atomic replace may reuse a freed inode within one tick of a
   * coarse mtime, with the same size.)
   */
  readText(): string | undefined {
    return readPrivateFileSync(this.path);
  }

  /** The stored login, or undefined when there is none. */
  async read(): Promise<LoginEntry | undefined> {
    const text = this.readText();
    return text === undefined ? undefined : this.parse(text);
  }

  /** The login the file's text (from readText) names: from the file itself, or from the keyring. */
  async parse(text: string): Promise<LoginEntry> {
    const doc = parseJson(text, this.path) as { version?: unknown; generation?: unknown; location?: unknown; login?: unknown };
    if (doc.version !== 1 || !Number.isSafeInteger(doc.generation) || (doc.location !== 'file' && doc.location !== 'keyring')) {
      throw new BatonError('CORRUPT_FILE', `${this.path} is not a baton login file (version 1); remove it and log in again`, { details: { path: this.path } });
    }
    const generation = doc.generation as number;
    if (doc.location === 'file') return { login: parseStoredLogin(doc.login, this.path), location: 'file', generation };
    const secret = await keyringGet(this.#account);
    if (secret === undefined) {
      throw new BatonError('LOGIN_REQUIRED', `${this.path} says the ${this.provider} login is in the OS keyring, but the keyring has no entry for it; log in again (baton auth login ${this.provider})`, {
        details: { path: this.path },
      });
    }
    const kept = parseJson(secret, `the keyring entry ${this.#account}`) as { login?: unknown };
    return { login: parseStoredLogin(kept.login, `the keyring entry ${this.#account}`), location: 'keyring', generation };
  }

  /**
   * Stores a login (call under `locked`). A refresh passes no preference: the
   * login stays where it was. A new login goes where `preference` says: the
   * keyring or the file, or with 'auto' where the old login was, else the
   * keyring if one answers, else the file. Returns where it went.
   */
  async write(login: StoredLogin, previous: LoginEntry | undefined, preference?: StorePreference): Promise<StoreLocation> {
    this.#ensureDir();
    const generation = (previous?.generation ?? 0) + 1;
    const location: StoreLocation =
      preference === 'keyring' || preference === 'file'
        ? preference
        : (previous?.location ?? ((await keyringWorks(this.#account)) ? 'keyring' : 'file'));
    if (location === 'keyring') {
      // The secret first, then the pointer: a crash between the two leaves the old pointer to the new secret, which reads fine.
      await keyringSet(this.#account, JSON.stringify({ generation, login }));
      this.#writeFile({ version: 1, provider: this.provider, generation, location });
    } else {
      this.#writeFile({ version: 1, provider: this.provider, generation, location, login });
      // Moved out of the keyring: leave no copy behind.
      if (previous?.location === 'keyring') await keyringDelete(this.#account);
    }
    return location;
  }

  /** Deletes the login from wherever it is (call under `locked`). Returns where it was, or undefined when there was none. */
  async delete(): Promise<StoreLocation | undefined> {
    const text = this.readText();
    if (text === undefined) return undefined;
    let location: StoreLocation = 'file';
    try {
      if ((parseJson(text, this.path) as { location?: unknown }).location === 'keyring') location = 'keyring';
    } catch {
      // damaged: the file alone is removed below
    }
    if (location === 'keyring') await keyringDelete(this.#account);
    try {
      unlinkSync(this.path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw fsError(error, 'delete', this.path);
    }
    return location;
  }

  #writeFile(doc: object): void {
    writePrivateFileSync(this.path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}

function parseJson(text: string, where: string): object {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // refused below, without echoing the text (it may hold a secret)
  }
  throw new BatonError('CORRUPT_FILE', `${where} is not valid JSON; remove it and log in again`, { details: { where } });
}
