// Signing in with a browser, as RFC 8252 says a native app should: the
// authorization-code grant with PKCE (S256) and a random `state`, the
// redirect to a one-request server on 127.0.0.1 at a free port (or the port
// asked for), a time limit, and the issuer checked where the answer names one
// (RFC 9207). Nothing is stored here: the caller stores what this returns.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError, errnoCode } from '../errors.ts';
import { client, configuration, grantedTokens, reason } from './oauth.ts';
import { DEFAULT_LOGIN_TIMEOUT_MS, PROVIDER_SETTINGS, type OAuthSettings, type Provider } from './providers.ts';
import type { OAuthLogin } from './stored-login.ts';

const CALLBACK_PATH = '/oauth2callback';

export interface BrowserLoginOptions {
  provider: Provider;
  settings: OAuthSettings & { clientId: string };
  /** The loopback port to listen on (default 0: one the system picks). */
  port?: number;
  timeoutMs?: number;
  /** Shows the user where to sign in: opens a browser, prints the URL, or both. */
  onAuthorizationUrl(url: string): void | Promise<void>;
  /** Told of an answer that was not for this login (its state did not match): the login goes on waiting. */
  onIgnored?(why: string): void;
  signal?: AbortSignal;
}

/** No `cause`: openid-client may attach a whole token answer to its errors, and a logger that walks causes would print it. */
const failed = (message: string): BatonError => new BatonError('LOGIN_FAILED', `${message}; nothing was stored`);

/** What one request to the callback path did: settled the login, or was turned away (the login goes on). */
type Outcome = { settled: true; login: OAuthLogin } | { settled: true; error: BatonError } | { settled: false; why: string };

export async function browserLogin(options: BrowserLoginOptions): Promise<OAuthLogin> {
  const { provider, settings, port = 0, timeoutMs = DEFAULT_LOGIN_TIMEOUT_MS } = options;
  const identity = { issuer: settings.issuer, clientId: settings.clientId, clientSecret: settings.clientSecret ?? null };
  const config = await configuration(identity);
  const server = createServer();
  await listen(server, port);
  const stop = new AbortController();
  try {
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`;
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...PROVIDER_SETTINGS[provider].authorizationParameters(settings.issuer),
    });
    const expectedIssuer = config.serverMetadata().issuer;
    const handle = async (callback: URL): Promise<Outcome> => {
      // Only an answer with this login's state settles it: any other (a stale tab, a page or a local
      // program that found the port) is turned away, and the login goes on waiting.
      if (callback.searchParams.get('state') !== state) {
        return { settled: false, why: "a sign-in answer whose state does not match this login (a stale browser tab, or a redirect someone else made) was turned away" };
      }
      const iss = callback.searchParams.get('iss');
      if (iss !== null && iss !== expectedIssuer) return { settled: true, error: failed(`the sign-in answer comes from issuer ${JSON.stringify(iss)}, but this login is with ${expectedIssuer}`) };
      try {
        // openid-client checks state, iss and the error answer again, and exchanges the code with the PKCE verifier.
        const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { redirect_uri: redirectUri });
        const login: OAuthLogin = {
          mode: 'oauth',
          issuer: settings.issuer,
          clientId: settings.clientId,
          clientSecret: settings.clientSecret ?? null,
          ...grantedTokens(tokens, Date.now()),
          source: 'login',
          project: settings.project ?? null,
          region: settings.region ?? null,
        };
        return { settled: true, login };
      } catch (error) {
        return { settled: true, error: failed(`${settings.issuer} refused the sign-in (${reason(error)})`) };
      }
    };
    const answer = waitForCallback(server, redirectUri, handle, timeoutMs, AbortSignal.any([stop.signal, ...(options.signal ? [options.signal] : [])]), options.onIgnored);
    try {
      await options.onAuthorizationUrl(url.href);
    } catch (error) {
      stop.abort();
      answer.catch(() => {});
      throw error;
    }
    return await answer;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      if (errnoCode(error) === 'EADDRINUSE') reject(new BatonError('UNAVAILABLE', `port ${port} on 127.0.0.1 is already in use: choose another with --port, or leave it out for a free one`));
      else reject(failed(`could not listen on 127.0.0.1:${port} for the sign-in answer (${(error as Error).message})`));
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Waits for the answer that settles the login; the browser is told each request's outcome. */
function waitForCallback(
  server: Server,
  redirectUri: string,
  handle: (callback: URL) => Promise<Outcome>,
  timeoutMs: number,
  signal: AbortSignal,
  onIgnored: ((why: string) => void) | undefined,
): Promise<OAuthLogin> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let busy = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(failed(`no sign-in arrived within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    const onAbort = (): void => finish(() => reject(failed('the sign-in was cancelled')));
    signal.addEventListener('abort', onAbort, { once: true });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // Origin form only ("/path?query"): anything else (an absolute URL, "*") is not a browser's redirect.
      const target = req.url ?? '';
      let callback: URL | undefined;
      if (target.startsWith('/') && !target.startsWith('//')) {
        try {
          callback = new URL(target, redirectUri);
        } catch {
          callback = undefined;
        }
      }
      if (req.method !== 'GET' || callback === undefined || callback.pathname !== CALLBACK_PATH || settled || busy) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      busy = true;
      void handle(callback).then((outcome) => {
        busy = false;
        if (!outcome.settled) {
          page(res, 400, `Not signed in: ${outcome.why}. The sign-in started by baton is still waiting.`);
          onIgnored?.(outcome.why);
        } else if ('login' in outcome) {
          page(res, 200, 'Signed in. You can close this tab and go back to the terminal.');
          finish(() => resolve(outcome.login));
        } else {
          page(res, 400, `Sign-in failed: ${outcome.error.message}`);
          finish(() => reject(outcome.error));
        }
      });
    });
  });
}

function page(res: ServerResponse, status: number, text: string): void {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'", connection: 'close' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baton sign-in</title></head><body><p>${escaped}</p></body></html>\n`);
}
