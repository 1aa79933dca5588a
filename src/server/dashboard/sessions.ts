// Who may use the dashboard. `baton ui` asks the daemon (over its unix
// socket, or with its token over TCP) for a link carrying a one-time ticket;
// the browser trades the ticket for a cookie at /ui/login, the Jupyter way,
// so no long-lived secret lands in a URL, a log or the browser's history.
// The cookie alone only opens the page: every port of 127.0.0.1 shares one
// cookie jar, so any local server the browser is sent to receives it. API
// calls also need the session's key, handed to the page once in the login
// redirect's fragment and kept in the origin's (port's) own localStorage.
// A ticket lives TICKET_TTL_MS and works once. A cookie session lives
// SESSION_TTL_MS and is kept (hashed) in <stateDir>/ui.json with the port the
// dashboard listened on, so a restarted daemon listens there again and an
// open page reconnects without signing in afresh. Only this daemon (it holds
// the state directory's lock) writes the file.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError, errnoCode, fsError } from '../../errors.ts';
import { serializeJson, writeFileAtomicSync } from '../../files/atomic-write.ts';

export const TICKET_TTL_MS = 120_000;
export const SESSION_TTL_MS = 24 * 3600_000;
/** More live sessions than this and the oldest goes: a loop minting links cannot grow the file without end. */
const MAX_SESSIONS = 64;

export interface DashboardPrincipal {
  principal: string;
  readOnly: boolean;
}

interface StoredSession {
  id: string;
  /** Hex sha256 of the cookie's secret. */
  hash: string;
  /** Hex sha256 of the key the page sends in X-Baton-Session. */
  keyHash: string;
  readOnly: boolean;
  expiresAt: number;
  /** Who asked for the link (`local`, `hmac`, `token:<id>`): a revoked token's sessions end with it. */
  parent: string;
}

/** Links waiting to be used, per principal other than `local` (the machine's user). */
const MAX_TICKETS_PER_PRINCIPAL = 20;

interface UiDocument {
  version: 1;
  /** The loopback port the dashboard listened on, or null. */
  port: number | null;
  sessions: StoredSession[];
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export class DashboardSessions {
  readonly #path: string;
  #doc: UiDocument;
  /** One-time tickets: hex sha256 → what the session made from it will be. */
  readonly #tickets = new Map<string, { readOnly: boolean; expiresAt: number; parent: string }>();
  /** Whether the principal that minted a session still exists (a token not revoked). */
  readonly #parentAlive: (parent: string) => boolean;
  /** Why ui.json was not read, once, for the log. */
  readonly unreadable: string | undefined;

  constructor(stateDir: string, parentAlive: (parent: string) => boolean) {
    this.#path = join(stateDir, 'ui.json');
    this.#parentAlive = parentAlive;
    const read = this.#read();
    this.#doc = read.doc;
    this.unreadable = read.problem;
  }

  /** The port a previous daemon's dashboard used, if any session from then still lives. */
  get rememberedPort(): number | null {
    return this.#live().length > 0 ? this.#doc.port : null;
  }

  rememberPort(port: number): void {
    if (this.#doc.port === port) return;
    this.#doc = { ...this.#doc, port };
    this.#write();
  }

  /** A new one-time ticket (the secret goes in the link only). */
  mintTicket(readOnly: boolean, parent: string): { ticket: string; expiresAt: number } {
    if (parent.startsWith('ui:')) throw new BatonError('PERMISSION_DENIED', 'a dashboard session cannot mint sign-in links (it would outlive itself): run `baton ui`');
    const now = Date.now();
    for (const [hash, t] of this.#tickets) if (t.expiresAt <= now) this.#tickets.delete(hash);
    const mine = [...this.#tickets.values()].filter((t) => t.parent === parent).length;
    if (parent !== 'local' && mine >= MAX_TICKETS_PER_PRINCIPAL) {
      throw new BatonError('OVERLOADED', `${parent} has ${mine} dashboard links waiting to be used; use one, or wait two minutes`, { details: { retryAfterMs: TICKET_TTL_MS } });
    }
    if (this.#tickets.size >= 1000) throw new BatonError('OVERLOADED', 'more than 1000 dashboard links are waiting to be used; use one, or wait two minutes', { details: { retryAfterMs: TICKET_TTL_MS } });
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = now + TICKET_TTL_MS;
    this.#tickets.set(sha256(ticket).toString('hex'), { readOnly, expiresAt, parent });
    return { ticket, expiresAt };
  }

  /** Trades a ticket for a cookie value, once. */
  redeem(ticket: string): { cookie: string; key: string; session: DashboardPrincipal; maxAgeS: number } {
    const ticketHash = sha256(ticket).toString('hex');
    const found = this.#tickets.get(ticketHash);
    this.#tickets.delete(ticketHash);
    if (found === undefined || found.expiresAt <= Date.now()) {
      throw new BatonError('UNAUTHENTICATED', 'this dashboard link was used already or has expired (links work once, for two minutes): run `baton ui` for a new one');
    }
    // The token or key that asked for the link was revoked, or expired, since: no session (nor one pushed out for it).
    if (!this.#parentAlive(found.parent)) throw new BatonError('UNAUTHENTICATED', 'the credential that asked for this dashboard link was revoked or has expired since: run `baton ui` for a new one');
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const stored: StoredSession = { id, hash: sha256(secret).toString('hex'), keyHash: sha256(key).toString('hex'), readOnly: found.readOnly, expiresAt: Date.now() + SESSION_TTL_MS, parent: found.parent };
    let sessions = [...this.#live(), stored];
    // Full: the oldest read-only session goes first, so read-only callers minting links cannot sign the owner out.
    while (sessions.length > MAX_SESSIONS) {
      const victim = sessions.find((s) => s.readOnly) ?? sessions[0]!;
      sessions = sessions.filter((s) => s !== victim);
    }
    this.#doc = { ...this.#doc, sessions };
    this.#write();
    return { cookie: `${id}.${secret}`, key, session: { principal: `ui:${id}`, readOnly: stored.readOnly }, maxAgeS: SESSION_TTL_MS / 1000 };
  }

  /**
   * The session a cookie value names, or undefined (unknown, expired,
   * malformed, minted by a token since revoked). With `key`, the session's
   * key must match too (API calls); without, the cookie opens the page only.
   */
  lookup(cookie: string, key?: string): DashboardPrincipal | undefined {
    const match = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (match === null) return undefined;
    const stored = this.#doc.sessions.find((s) => s.id === match[1]);
    if (stored === undefined || stored.expiresAt <= Date.now()) return undefined;
    if (!timingSafeEqual(sha256(match[2]!), Buffer.from(stored.hash, 'hex'))) return undefined;
    if (key !== undefined && !timingSafeEqual(sha256(key), Buffer.from(stored.keyHash, 'hex'))) return undefined;
    if (!this.#parentAlive(stored.parent)) return undefined;
    return { principal: `ui:${stored.id}`, readOnly: stored.readOnly };
  }

  /** Whether the session with this id still stands (not signed out, not expired, its parent credential alive): what an open stream lives by. */
  alive(id: string): boolean {
    const stored = this.#doc.sessions.find((s) => s.id === id);
    return stored !== undefined && stored.expiresAt > Date.now() && this.#parentAlive(stored.parent);
  }

  /** Ends the session this cookie names (sign out); a cookie that does not name one ends nothing. */
  end(cookie: string, key: string): boolean {
    const session = this.lookup(cookie, key);
    if (session === undefined) return false;
    this.endAll((s) => `ui:${s.id}` === session.principal);
    return true;
  }

  /** Ends every session `which` picks (all: sign everyone out); how many. */
  endAll(which: (s: { id: string; readOnly: boolean; parent: string }) => boolean = () => true): number {
    const kept = this.#doc.sessions.filter((s) => !which(s));
    const ended = this.#doc.sessions.length - kept.length;
    if (ended > 0) {
      this.#doc = { ...this.#doc, sessions: kept };
      this.#write();
    }
    return ended;
  }

  #live(): StoredSession[] {
    const now = Date.now();
    return this.#doc.sessions.filter((s) => s.expiresAt > now && this.#parentAlive(s.parent));
  }

  /** The file as last written; a missing or unreadable one is a fresh start (the worst loss: signing in again). */
  #read(): { doc: UiDocument; problem?: string } {
    const empty: UiDocument = { version: 1, port: null, sessions: [] };
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      return errnoCode(error) === 'ENOENT' ? { doc: empty } : { doc: empty, problem: (error as Error).message };
    }
    try {
      const doc = JSON.parse(text) as Partial<UiDocument>;
      if (doc.version !== 1 || !Array.isArray(doc.sessions)) return { doc: empty, problem: 'not a version 1 document' };
      const port = typeof doc.port === 'number' && Number.isInteger(doc.port) && doc.port > 0 && doc.port < 65536 ? doc.port : null;
      const hex = (v: unknown, n: number): boolean => typeof v === 'string' && new RegExp(`^[0-9a-f]{${n}}$`).test(v);
      const sessions = doc.sessions.filter(
        (s): s is StoredSession =>
          typeof s === 'object' && s !== null && hex(s.id, 12) && hex(s.hash, 64) && hex(s.keyHash, 64) && typeof s.readOnly === 'boolean' && typeof s.expiresAt === 'number' && typeof s.parent === 'string',
      );
      return { doc: { version: 1, port, sessions } };
    } catch (error) {
      return { doc: empty, problem: (error as Error).message };
    }
  }

  #write(): void {
    // An existing file keeps its mode across an atomic replace: make sure it is ours alone.
    try {
      const info = statSync(this.#path, { throwIfNoEntry: false });
      if (info !== undefined && (info.mode & 0o777) !== 0o600) chmodSync(this.#path, 0o600);
    } catch (error) {
      throw fsError(error, 'set the mode of', this.#path);
    }
    writeFileAtomicSync(this.#path, serializeJson(this.#path, this.#doc), { mode: 0o600 });
  }
}
