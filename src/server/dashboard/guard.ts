// What keeps a browser's ambient credentials (the dashboard's cookie) from
// being used by another page. SameSite=Strict keeps the cookie off requests
// from other sites, but every port of 127.0.0.1 is one "site", so a page
// served by any local program could still send it: a cookie-authenticated
// request must also come from the dashboard's own origin. Browsers say where
// a request comes from in Sec-Fetch-Site (every request) and Origin (every
// POST); both are checked. Tokens and signatures are not ambient, so requests
// carrying them need none of this.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BatonError } from '../../errors.ts';

/** Sent with every answer on a TCP listener: no framing, no sniffing, no referrer, scripts and styles from this origin only. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/** The dashboard's cookie on the listener at `port`: named by port, as every port of 127.0.0.1 shares one cookie jar. */
export const cookieName = (port: number): string => `baton_ui_${port}`;

/** The value of cookie `name` in the request, if sent (the last, if sent more than once). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) found = part.slice(eq + 1).trim();
  }
  return found;
}

/** A request header's (first) value. */
export const headerValue = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Refuses a cookie-authenticated request that another origin made (PERMISSION_DENIED, 403). */
export function checkSameOrigin(req: IncomingMessage): void {
  const site = headerValue(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new BatonError('PERMISSION_DENIED', `a ${site} request cannot use the dashboard's session (Sec-Fetch-Site: ${site}); only the dashboard's own pages can`);
  }
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return;
  const origin = headerValue(req, 'origin');
  const host = headerValue(req, 'host');
  // https: behind a TLS-terminating proxy that passes the Host on.
  if (origin === undefined || host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) {
    throw new BatonError('PERMISSION_DENIED', `a ${method} with the dashboard's session must come from its own page (Origin ${JSON.stringify(origin ?? null)} is not http://${host ?? '?'})`);
  }
}

/**
 * On the dashboard's loopback listener, the Host must be the loopback address
 * it listens on: a page of another site whose name an attacker re-pointed at
 * 127.0.0.1 (DNS rebinding) reaches the port, but names its own host.
 */
export function checkHost(req: IncomingMessage): void {
  const address = req.socket.localAddress ?? '';
  if (address !== '127.0.0.1' && address !== '::1' && address !== '::ffff:127.0.0.1') return; // --listen: the operator chose the names
  const host = headerValue(req, 'host') ?? '';
  const port = req.socket.localPort;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}` && host !== `[::1]:${port}`) {
    throw new BatonError('PERMISSION_DENIED', `the dashboard answers to 127.0.0.1:${port} or localhost:${port}, not to Host ${JSON.stringify(host.slice(0, 100))}`);
  }
}
