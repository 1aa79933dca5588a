// Who may use the dashboard. `baton ui` asks the daemon (over its unix
// socket, or with its token over TCP) for a link carrying a one-time ticket;
// the browser trades the ticket for a cookie at /ui/login, the Jupyter way,
// so no long-lived secret lands in a URL, a log or the browser's history.
// A ticket lives TICKET_TTL_MS and works once. A cookie session lives
// SESSION_TTL_MS and is kept (hashed) in <stateDir>/ui.json with the port the
// dashboard listened on, so a restarted daemon listens there again and an
// open page reconnects without signing in afresh. Only this daemon (it holds
// the state directory's lock) writes the file.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError } from '../../errors.ts';
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
  readOnly: boolean;
  expiresAt: number;
}

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
  readonly #tickets = new Map<string, { readOnly: boolean; expiresAt: number }>();

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'ui.json');
    this.#doc = this.#read();
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
  mintTicket(readOnly: boolean): { ticket: string; expiresAt: number } {
    const now = Date.now();
    for (const [hash, t] of this.#tickets) if (t.expiresAt <= now) this.#tickets.delete(hash);
    if (this.#tickets.size >= 1000) throw new BatonError('OVERLOADED', 'more than 1000 dashboard links are waiting to be used; use one, or wait two minutes');
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = now + TICKET_TTL_MS;
    this.#tickets.set(sha256(ticket).toString('hex'), { readOnly, expiresAt });
    return { ticket, expiresAt };
  }

  /** Trades a ticket for a cookie value, once. */
  redeem(ticket: string): { cookie: string; session: DashboardPrincipal; maxAgeS: number } {
    const key = sha256(ticket).toString('hex');
    const found = this.#tickets.get(key);
    this.#tickets.delete(key);
    if (found === undefined || found.expiresAt <= Date.now()) {
      throw new BatonError('UNAUTHENTICATED', 'this dashboard link was used already or has expired (links work once, for two minutes): run `baton ui` for a new one');
    }
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const stored: StoredSession = { id, hash: sha256(secret).toString('hex'), readOnly: found.readOnly, expiresAt: Date.now() + SESSION_TTL_MS };
    this.#doc = { ...this.#doc, sessions: [...this.#live(), stored].slice(-MAX_SESSIONS) };
    this.#write();
    return { cookie: `${id}.${secret}`, session: { principal: `ui:${id}`, readOnly: stored.readOnly }, maxAgeS: SESSION_TTL_MS / 1000 };
  }

  /** The session a cookie value names, or undefined (unknown, expired, malformed). */
  lookup(cookie: string): DashboardPrincipal | undefined {
    const match = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (match === null) return undefined;
    const stored = this.#doc.sessions.find((s) => s.id === match[1]);
    if (stored === undefined || stored.expiresAt <= Date.now()) return undefined;
    if (!timingSafeEqual(sha256(match[2]!), Buffer.from(stored.hash, 'hex'))) return undefined;
    return { principal: `ui:${stored.id}`, readOnly: stored.readOnly };
  }

  /** Ends a session (sign out). */
  end(cookie: string): void {
    const id = cookie.split('.')[0];
    if (!this.#doc.sessions.some((s) => s.id === id)) return;
    this.#doc = { ...this.#doc, sessions: this.#doc.sessions.filter((s) => s.id !== id) };
    this.#write();
  }

  #live(): StoredSession[] {
    const now = Date.now();
    return this.#doc.sessions.filter((s) => s.expiresAt > now);
  }

  /** The file as last written; a missing or unreadable one is a fresh start (the worst loss: signing in again). */
  #read(): UiDocument {
    const empty: UiDocument = { version: 1, port: null, sessions: [] };
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return empty;
    }
    try {
      const doc = JSON.parse(text) as Partial<UiDocument>;
      if (doc.version !== 1 || !Array.isArray(doc.sessions)) return empty;
      const port = typeof doc.port === 'number' && Number.isInteger(doc.port) && doc.port > 0 && doc.port < 65536 ? doc.port : null;
      const sessions = doc.sessions.filter(
        (s): s is StoredSession =>
          typeof s === 'object' && s !== null && typeof s.id === 'string' && /^[0-9a-f]{12}$/.test(s.id) && typeof s.hash === 'string' && /^[0-9a-f]{64}$/.test(s.hash) && typeof s.readOnly === 'boolean' && typeof s.expiresAt === 'number',
      );
      return { version: 1, port, sessions };
    } catch {
      return empty;
    }
  }

  #write(): void {
    writeFileAtomicSync(this.#path, serializeJson(this.#path, this.#doc), { mode: 0o600 });
  }
}
