// A real OpenID Connect provider for the credential tests and bench:
// panva's oidc-provider, in this process on 127.0.0.1, with PKCE required,
// refresh tokens rotated (a used one presented again revokes the grant, as
// many issuers do), revocation and introspection on. It counts the refresh
// grants it answers, and the ones it refused, so a test can say how many
// refreshes reached it. Also an HTTP "browser" that signs in through the
// provider's own login and consent pages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const TEST_CLIENT_ID = 'baton-test-cli';

/**
 * The environment that points baton's Gemini credentials at `issuer`, kept in
 * `credentialsDir` (the file store: no keyring), with no API key from the
 * caller's own environment.
 */
export function issuerEnvironment(issuer: string, credentialsDir: string): Record<string, string> {
  return {
    BATON_CREDENTIALS_DIR: credentialsDir,
    BATON_CREDENTIAL_STORE: 'file',
    BATON_GEMINI_ISSUER: issuer,
    BATON_GEMINI_SCOPES: 'openid email offline_access',
    GOOGLE_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    GEMINI_API_KEY: '',
    GOOGLE_API_KEY: '',
  };
}

export interface TestIssuer {
  issuer: string;
  /** Refresh grants answered with tokens. */
  refreshes: number;
  /** Refresh grants refused (invalid_grant and the like), by error. */
  refreshErrors: string[];
  /** Token revocations asked for. */
  revocations: number;
  /**
   * Runs before the issuer looks at a token request (POST /token): a chaos test
   * kills the requester here. A request whose client is gone when it returns is
   * dropped unread, as if it had never been sent.
   */
  beforeTokenRequest: (() => Promise<void>) | undefined;
  /** Whether an access token is live at the issuer (introspection). */
  active(accessToken: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface TestIssuerOptions {
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
}

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/oauth2callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'offline_access'],
    claims: { openid: ['sub'], email: ['email'] },
    features: { revocation: { enabled: true, allowedPolicy: () => true }, introspection: { enabled: true } },
    ttl: { AccessToken: options.accessTokenTtl ?? 3600, Interaction: 600, Session: 3600, Grant: 86_400, RefreshToken: 86_400, IdToken: 3600 },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.test` }) }),
  } as ConstructorParameters<typeof Provider>[1]);
  const counts = { refreshes: 0, refreshErrors: [] as string[], revocations: 0 };
  provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: string } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') counts.refreshes += 1;
  });
  provider.on('grant.error', (ctx: { oidc: { params?: { grant_type?: string } } }, error: { error?: string }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') counts.refreshErrors.push(error.error ?? 'unknown');
  });
  const handle = provider.callback();
  const hooks: { beforeToken: (() => Promise<void>) | undefined } = { beforeToken: undefined };
  server.on('request', (req, res) => {
    // oidc-provider reports no successful revocation: counted at its door.
    if (req.method === 'POST' && req.url?.startsWith('/token/revocation') === true) counts.revocations += 1;
    const before = req.method === 'POST' && (req.url === '/token' || req.url?.startsWith('/token?') === true) ? hooks.beforeToken : undefined;
    if (before === undefined) return void handle(req, res);
    void before().then(() => {
      if (req.socket.destroyed || req.socket.readableEnded) return void res.destroy();
      void handle(req, res);
    });
  });
  return {
    issuer,
    get refreshes() {
      return counts.refreshes;
    },
    get refreshErrors() {
      return counts.refreshErrors;
    },
    get revocations() {
      return counts.revocations;
    },
    get beforeTokenRequest() {
      return hooks.beforeToken;
    },
    set beforeTokenRequest(hook) {
      hooks.beforeToken = hook;
    },
    async active(accessToken) {
      const token = await provider.AccessToken.find(accessToken);
      return token !== undefined && !token.isExpired;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Follows a sign-in address as a browser would, through the provider's login
 * and consent forms (any login is accepted), up to the redirect to the
 * loopback callback, which it requests too (as `tamper` changes it: a test's
 * forgery). Returns the callback's answer.
 */
export async function signInByHttp(authorizationUrl: string, login = 'alice', tamper: (callback: string) => string = (c) => c): Promise<{ status: number; body: string; callback: string }> {
  const cookies = new Map<string, string>();
  const remember = (res: Response): void => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  };
  const cookieHeader = (): string => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = authorizationUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step += 1) {
    if (new URL(url).pathname === '/oauth2callback') {
      const sent = tamper(url);
      const res = await fetch(sent);
      return { status: res.status, body: await res.text(), callback: sent };
    }
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: cookieHeader(), ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      body,
    });
    remember(res);
    const location = res.headers.get('location');
    if (location !== null) {
      url = new URL(location, url).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const page = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(page);
    if (form === null) throw new Error(`sign-in stopped at ${url} (${res.status}): ${page.slice(0, 300)}`);
    const fields = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*>/g)) {
      const name = input[1]!;
      const value = /value="([^"]*)"/.exec(input[0])?.[1];
      if (name === 'login') fields.set(name, login);
      else if (name === 'password') fields.set(name, 'any');
      else if (value !== undefined) fields.set(name, value);
    }
    url = new URL(form[1]!.replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    body = fields.toString();
  }
  throw new Error('sign-in did not reach the callback within 20 steps');
}
