// The daemon's web dashboard: /ui/login trades a one-time ticket for a
// session, /ui/* serves the single-page app (index.html only to a signed-in
// browser; the hashed assets are the package's public code), and the session
// authenticates the app's own calls to /v1/ as a token would: its cookie plus
// its key (sessions.ts says why both). A browser cannot reach a unix socket,
// so a daemon without a TCP listener opens one on 127.0.0.1 the first time a
// link is asked for (and again after a restart, on the same port, while a
// session from before lives).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BatonError } from '../../errors.ts';
import { SESSION_KEY_HEADER, type DashboardLink } from '../../protocol/dashboard-link.ts';
import type { Logger } from '../log.ts';
import { checkHost, checkSameOrigin, cookieName, headerValue, readCookie } from './guard.ts';
import { DashboardSessions, type DashboardPrincipal } from './sessions.ts';
import { StaticFiles, defaultUiDir } from './static-files.ts';

export interface DashboardOptions {
  stateDir: string;
  log: Logger;
  /** The daemon's own TCP listener ("host:port"), if it has one: the dashboard is served there, behind the same auth. */
  tcpListener(): string | null;
  /** Opens a loopback listener for the dashboard on `port` (0: any); resolves to the port it got. */
  openLoopback(port: number): Promise<number>;
  /** Whether the principal that minted a session still exists (false once its token is revoked). */
  principalAlive(principal: string): boolean;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `text` is HTML already: callers escape what they did not write. */
function sendPage(res: ServerResponse, status: number, title: string, text: string, headers: Record<string, string> = {}): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export class Dashboard {
  readonly #options: DashboardOptions;
  readonly #sessions: DashboardSessions;
  readonly #files = new StaticFiles(defaultUiDir());
  /** The loopback listener's port, once open. */
  #loopback: Promise<number> | undefined;

  constructor(options: DashboardOptions) {
    this.#options = options;
    this.#sessions = new DashboardSessions(options.stateDir, options.principalAlive);
    if (this.#sessions.unreadable !== undefined) options.log.warn('ui.json could not be read: dashboard sessions from before start afresh', { problem: this.#sessions.unreadable });
  }

  /** After a restart: listen where the last daemon's dashboard did, while a session from then lives. */
  async restore(): Promise<void> {
    const port = this.#sessions.rememberedPort;
    if (port === null || this.#options.tcpListener() !== null) return;
    try {
      await this.#listen(port);
    } catch (error) {
      this.#loopback = undefined;
      this.#options.log.warn('the dashboard cannot listen on its port again; `baton ui` opens another', { port, error: (error as Error).message });
    }
  }

  #listen(port: number): Promise<number> {
    this.#loopback ??= this.#options.openLoopback(port).then((got) => {
      this.#sessions.rememberPort(got);
      this.#options.log.info('dashboard listening', { url: `http://127.0.0.1:${got}/ui/` });
      return got;
    });
    return this.#loopback;
  }

  /** A one-time sign-in link for a browser, minted for `who`; a read-only caller gets a read-only one. */
  async link(options: { readOnly: boolean }, who: DashboardPrincipal): Promise<DashboardLink> {
    const readOnly = options.readOnly || who.readOnly;
    if (!this.#files.built()) {
      throw new BatonError('UNAVAILABLE', `the dashboard is not built (no ${this.#files.dir}index.html): run \`npm run build\` in the baton package`);
    }
    const { ticket, expiresAt } = this.#sessions.mintTicket(readOnly, who.principal);
    const tcp = this.#options.tcpListener();
    let origin: string;
    if (tcp !== null) {
      // Bound to every interface: the browser is on this machine, and reaches it on loopback.
      const port = tcp.slice(tcp.lastIndexOf(':') + 1);
      const host = tcp.slice(0, tcp.lastIndexOf(':'));
      origin = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
    } else {
      let port: number;
      try {
        port = await this.#listen(this.#sessions.rememberedPort ?? 0);
      } catch {
        this.#loopback = undefined;
        port = await this.#listen(0);
      }
      origin = `http://127.0.0.1:${port}`;
    }
    return { url: `${origin}/ui/login?ticket=${ticket}`, origin, readOnly, expiresAt };
  }

  /** Signs every browser out (`baton ui --sign-out`); how many sessions ended. */
  signOutAll(): number {
    return this.#sessions.endAll();
  }

  /** Whether the dashboard principal `ui:<id>` still stands: an open event stream ends when it does not. */
  sessionAlive(principal: string): boolean {
    return principal.startsWith('ui:') && this.#sessions.alive(principal.slice('ui:'.length));
  }

  /**
   * The principal a request's dashboard session names: undefined when it
   * carries no cookie; UNAUTHENTICATED for a stale cookie or a missing or
   * wrong key; PERMISSION_DENIED from another origin.
   */
  authenticate(req: IncomingMessage): DashboardPrincipal | undefined {
    const value = readCookie(req, cookieName(req.socket.localPort ?? 0));
    if (value === undefined) return undefined;
    checkHost(req);
    const key = headerValue(req, SESSION_KEY_HEADER);
    if (key === undefined) throw new BatonError('UNAUTHENTICATED', `the dashboard's calls carry its session key (${SESSION_KEY_HEADER}); the cookie alone opens only the page`);
    const session = this.#sessions.lookup(value, key);
    if (session === undefined) throw new BatonError('UNAUTHENTICATED', 'the dashboard session is unknown or expired: run `baton ui` to sign in again');
    checkSameOrigin(req);
    return session;
  }

  /** Answers a request under /ui. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string, query: string): Promise<void> {
    const method = req.method ?? 'GET';
    const port = req.socket.localPort ?? 0;
    checkHost(req);
    if (route === '/ui/login') {
      if (method !== 'GET') return sendPage(res, 405, 'Method not allowed', 'Open the link <code>baton ui</code> printed.', { allow: 'GET' });
      const ticket = new URLSearchParams(query).get('ticket') ?? '';
      let redeemed;
      try {
        redeemed = this.#sessions.redeem(ticket);
      } catch (error) {
        return sendPage(res, 401, 'Link used or expired', escapeHtml((error as Error).message).replace(/`([^`]+)`/g, '<code>$1</code>'));
      }
      this.#options.log.info('dashboard signed in', { principal: redeemed.session.principal, readOnly: redeemed.session.readOnly });
      // 303 to the app: the ticket's URL is replaced in the history by /ui/. The key rides in the
      // fragment, which no request carries; the page moves it into its own origin's storage at once.
      res.writeHead(303, {
        location: `/ui/#session=${redeemed.key}`,
        'set-cookie': `${cookieName(port)}=${redeemed.cookie}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${redeemed.maxAgeS}`,
        'cache-control': 'no-store',
        'content-length': 0,
      });
      res.end();
      return;
    }
    if (route === '/ui/logout') {
      if (method !== 'POST') return sendPage(res, 405, 'Method not allowed', 'Sign out with POST.', { allow: 'POST' });
      const value = readCookie(req, cookieName(port));
      const key = headerValue(req, SESSION_KEY_HEADER);
      if (value !== undefined && key !== undefined) {
        checkSameOrigin(req);
        this.#sessions.end(value, key);
      }
      res.writeHead(204, { 'set-cookie': `${cookieName(port)}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      res.end();
      return;
    }
    if (route === '/ui') {
      res.writeHead(301, { location: '/ui/', 'content-length': 0 });
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return sendPage(res, 405, 'Method not allowed', `${escapeHtml(method)} is not allowed here.`, { allow: 'GET' });
    const path = this.#files.resolve(route.slice('/ui/'.length));
    if (path === undefined) return sendPage(res, 404, 'Not found', 'No such file in the dashboard.');
    if (!path.startsWith('assets/')) {
      // The app itself only to a signed-in browser (the cookie: a page load carries no key); its assets are the package's public code.
      const value = readCookie(req, cookieName(port));
      if (value === undefined || this.#sessions.lookup(value) === undefined) {
        return sendPage(res, 401, 'Sign in to the baton dashboard', 'Run <code>baton ui</code> in the project: it opens (or prints) a link that signs this browser in.');
      }
    }
    const accept = req.headers.accept ?? '';
    const file = this.#files.get(path, accept.includes('text/html'));
    if (file === undefined) return sendPage(res, 404, 'Not found', 'No such file in the dashboard.');
    res.writeHead(200, { ...file.headers, 'content-length': file.body.length });
    res.end(method === 'HEAD' ? undefined : file.body);
  }
}
