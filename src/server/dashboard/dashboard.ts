// The daemon's web dashboard: /ui/login trades a one-time ticket for a
// cookie, /ui/* serves the single-page app (index.html only to a signed-in
// browser; the hashed assets are the package's public code), and the cookie
// authenticates the app's own calls to /v1/ as a token would. A browser
// cannot reach a unix socket, so a daemon without a TCP listener opens one
// on 127.0.0.1 the first time a link is asked for (and again after a restart,
// on the same port, while a session from before lives).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BatonError } from '../../errors.ts';
import type { DashboardLink } from '../../protocol/dashboard-link.ts';
import type { Logger } from '../log.ts';
import { checkSameOrigin, cookieName, readCookie } from './guard.ts';
import { DashboardSessions, type DashboardPrincipal } from './sessions.ts';
import { StaticFiles, defaultUiDir } from './static-files.ts';

export interface DashboardOptions {
  stateDir: string;
  log: Logger;
  /** The daemon's own TCP listener ("host:port"), if it has one: the dashboard is served there, behind the same auth. */
  tcpListener(): string | null;
  /** Opens a loopback listener for the dashboard on `port` (0: any); resolves to the port it got. */
  openLoopback(port: number): Promise<number>;
}

const page = (title: string, text: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

function sendPage(res: ServerResponse, status: number, title: string, text: string, headers: Record<string, string> = {}): void {
  const body = page(title, text);
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
    this.#sessions = new DashboardSessions(options.stateDir);
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

  /** A one-time sign-in link for a browser; a read-only caller gets a read-only one. */
  async link(options: { readOnly: boolean }): Promise<DashboardLink> {
    if (!this.#files.built()) {
      throw new BatonError('UNAVAILABLE', `the dashboard is not built (no ${this.#files.dir}index.html): run \`npm run build\` in the baton package`);
    }
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
    const { ticket, expiresAt } = this.#sessions.mintTicket(options.readOnly);
    return { url: `${origin}/ui/login?ticket=${ticket}`, origin, readOnly: options.readOnly, expiresAt };
  }

  /**
   * The principal a request's dashboard cookie names: undefined when it
   * carries none; UNAUTHENTICATED for a stale one; PERMISSION_DENIED from
   * another origin.
   */
  authenticate(req: IncomingMessage): DashboardPrincipal | undefined {
    const value = readCookie(req, cookieName(req.socket.localPort ?? 0));
    if (value === undefined) return undefined;
    const session = this.#sessions.lookup(value);
    if (session === undefined) throw new BatonError('UNAUTHENTICATED', 'the dashboard session is unknown or expired: run `baton ui` to sign in again');
    checkSameOrigin(req);
    return session;
  }

  /** Answers a request under /ui. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string, query: string): Promise<void> {
    const method = req.method ?? 'GET';
    const port = req.socket.localPort ?? 0;
    if (route === '/ui/login') {
      if (method !== 'GET') return sendPage(res, 405, 'Method not allowed', 'Open the link `baton ui` printed.', { allow: 'GET' });
      const ticket = new URLSearchParams(query).get('ticket') ?? '';
      let redeemed;
      try {
        redeemed = this.#sessions.redeem(ticket);
      } catch (error) {
        return sendPage(res, 401, 'Link used or expired', (error as Error).message.replace(/`([^`]+)`/g, '<code>$1</code>'));
      }
      this.#options.log.info('dashboard signed in', { principal: redeemed.session.principal, readOnly: redeemed.session.readOnly });
      // 303 to the app: the ticket's URL is replaced in the history by /ui/.
      res.writeHead(303, {
        location: '/ui/',
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
      if (value !== undefined) {
        checkSameOrigin(req);
        this.#sessions.end(value);
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
    if (method !== 'GET' && method !== 'HEAD') return sendPage(res, 405, 'Method not allowed', `${method} is not allowed on ${route}`, { allow: 'GET' });
    const path = route.slice('/ui/'.length);
    if (!path.startsWith('assets/')) {
      // The app itself only to a signed-in browser; its assets are the package's public code.
      let session: DashboardPrincipal | undefined;
      try {
        session = this.authenticate(req);
      } catch {
        session = undefined;
      }
      if (session === undefined) return sendPage(res, 401, 'Sign in to the baton dashboard', 'Run <code>baton ui</code> in the project: it opens (or prints) a link that signs this browser in.');
    }
    const accept = req.headers.accept ?? '';
    const file = this.#files.get(path, accept.includes('text/html'));
    if (file === undefined) return sendPage(res, 404, 'Not found', `No file ${route} in the dashboard.`);
    res.writeHead(200, { ...file.headers, 'content-length': file.body.length });
    res.end(method === 'HEAD' ? undefined : file.body);
  }
}
