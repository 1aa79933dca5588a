// Who gets into the dashboard, over plain HTTP (the browser tests in test/ui
// drive the same through Chromium): a one-time link traded for an HttpOnly,
// SameSite=Strict cookie; that cookie only from the dashboard's own origin;
// read-only sessions and tokens refused every mutation; strict headers on
// every answer; the session and the port surviving a daemon restart.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path exactly as given (a URL string would have `..` and `%2e%2e` resolved first). */
function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const code = (a: Answer): string | undefined => (JSON.parse(a.body) as { error?: { code: string } }).error?.code;

/** A project directory and a stand-in build of the dashboard (the real one is Vite's, tested in test/ui). */
function project(t: TestContext): { dir: string; stateDir: string; uiDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-dashboard-'));
  t.after(() => undefined);
  const uiDir = join(dir, 'ui-build');
  mkdirSync(join(uiDir, 'assets'), { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>baton</title><script type="module" src="/ui/assets/app-1a2b3c.js"></script>');
  writeFileSync(join(uiDir, 'assets', 'app-1a2b3c.js'), 'export {};');
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  symlinkSync(join(dir, 'secret.txt'), join(uiDir, 'assets', 'link-out'));
  return { dir, stateDir: join(dir, '.baton'), uiDir };
}

async function daemon(t: TestContext, p: { dir: string; stateDir: string; uiDir: string }, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon(p.stateDir, { cwd: p.dir, args, env: { BATON_UI_DIR: p.uiDir } });
  t.after(() => d.stop());
  return d;
}

/** Opens a link as a browser would: the cookie it sets (as a Cookie header) and the key the page keeps. */
async function signIn(url: string): Promise<{ cookie: string; key: string; setCookie: string; session: Record<string, string> }> {
  const answer = await http(url);
  assert.equal(answer.status, 303, answer.body);
  const key = /^\/ui\/#session=([A-Za-z0-9_-]{43})$/.exec(String(answer.headers.location))?.[1];
  assert.ok(key, `redirected to the app with the key in the fragment: ${String(answer.headers.location)}`);
  const setCookie = String(answer.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  return { cookie, key, setCookie, session: { cookie, 'x-baton-session': key } };
}

test('a link signs one browser in, once; the cookie is HttpOnly, SameSite=Strict, and named by port', async (t) => {
  const p = project(t);
  const d = await daemon(t, p);
  const link = await d.client().dashboardLink();
  assert.match(link.url, /^http:\/\/127\.0\.0\.1:\d+\/ui\/login\?ticket=[A-Za-z0-9_-]{32}$/);
  assert.equal(link.readOnly, false);
  const port = new URL(link.origin).port;
  const { cookie, setCookie, session } = await signIn(link.url);
  assert.match(setCookie, new RegExp(`^baton_ui_${port}=[0-9a-f]{12}\\.[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400$`));
  const again = await http(link.url);
  assert.equal(again.status, 401, 'a link works once');
  assert.equal(again.headers['set-cookie'], undefined);
  assert.match(again.body, /used already or has expired/);

  const whoami = await http(`${link.origin}/v1/whoami`, { headers: session });
  assert.equal(whoami.status, 200);
  assert.deepEqual(JSON.parse(whoami.body), { principal: `ui:${cookie.split('=')[1]!.split('.')[0]}`, readOnly: false, scopes: ['full'] });
  const page = await http(`${link.origin}/ui/`, { headers: { cookie } });
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>baton<\/title>/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const deep = await http(`${link.origin}/ui/queue`, { headers: { cookie, accept: 'text/html' } });
  assert.equal(deep.body, page.body, 'an app route a browser navigates to gets the app');
  const asset = await http(`${link.origin}/ui/assets/app-1a2b3c.js`);
  assert.equal(asset.status, 200, 'hashed assets are public code');
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
  for (const answer of [page, asset, whoami, again]) {
    assert.match(String(answer.headers['content-security-policy']), /default-src 'self'; script-src 'self'; style-src 'self'.*frame-ancestors 'none'/);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  }
  for (const path of ['/ui/..%2Fsecret.txt', '/ui/%2e%2e/secret.txt', '/ui/../secret.txt', '/ui/assets/..%2F..%2Fsecret.txt', '/ui/assets/..%2Findex.html', '/ui/assets/%2e%2e/index.html', '/ui/assets/../index.html', '/ui/assets/link-out']) {
    const escaped = await http(`${link.origin}${path}`);
    assert.ok(!escaped.body.includes('not for the browser') && !escaped.body.includes('<title>baton</title>'), `${path} stays inside the build's public part`);
  }
  const missing = await http(`${link.origin}/ui/assets/nothing`, { headers: { accept: 'text/html' } });
  assert.equal(missing.status, 404, 'a missing asset is not the app');
  const reflected = await http(`${link.origin}/ui/assets/%3Cb%3Ex%3C%2Fb%3E`);
  assert.ok(!reflected.body.includes('<b>'), 'nothing of the path is echoed as HTML');
});

test('the cookie alone opens the page, not the API; a cookie from one session and the key of another are refused', async (t) => {
  const p = project(t);
  const d = await daemon(t, p);
  const a = await signIn((await d.client().dashboardLink()).url);
  const b = await signIn((await d.client().dashboardLink()).url);
  const { origin } = await d.client().dashboardLink();
  assert.equal((await http(`${origin}/ui/`, { headers: { cookie: a.cookie } })).status, 200);
  const cookieOnly = await http(`${origin}/v1/whoami`, { headers: { cookie: a.cookie } });
  assert.equal(cookieOnly.status, 401);
  assert.match(cookieOnly.body, /session key/);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: { cookie: a.cookie, 'x-baton-session': b.key } })).status, 401);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: a.session })).status, 200);
  const rebound = await http(`${origin}/v1/whoami`, { headers: { ...a.session, host: `evil.example:${new URL(origin).port}` } });
  assert.equal(rebound.status, 403, 'a rebound name (Host) is refused on the loopback listener');
  const idOnly = `${a.cookie.split('.')[0]}.${'x'.repeat(43)}`;
  const out = await http(`${origin}/ui/logout`, { method: 'POST', headers: { cookie: idOnly, 'x-baton-session': a.key, origin } });
  assert.equal(out.status, 204);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: a.session })).status, 200, 'knowing the id is not signing out');
  assert.equal((await http(`${origin}/ui/logout`, { method: 'POST', headers: { ...a.session, origin } })).status, 204);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: a.session })).status, 401, 'signed out');
  assert.equal((await http(`${origin}/v1/whoami`, { headers: b.session })).status, 200, 'the other session lives');
  const odd = await http(`${origin}/v1/ui/sign-out`, { method: 'POST', headers: { ...b.session, origin, 'content-type': 'application/json' }, body: '{"n":-1}' });
  assert.equal(odd.status, 400, 'sign-out takes no fields');
  assert.match(JSON.parse(odd.body).error.message, /unknown field "n" in a dashboard sign-out request; it takes none/);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: b.session })).status, 200, 'a refused sign-out signed nobody out');
  assert.equal(await d.client().dashboardSignOut(), 1);
  assert.equal((await http(`${origin}/v1/whoami`, { headers: b.session })).status, 401, 'signed everyone out');
});

test('without the cookie nothing but the sign-in page; tokens do not open the dashboard listener', async (t) => {
  const p = project(t);
  const d = await daemon(t, p);
  const { origin } = await d.client().dashboardLink();
  const page = await http(`${origin}/ui/`);
  assert.equal(page.status, 401);
  assert.match(page.body, /baton ui/);
  for (const path of ['/v1/whoami', '/v1/status', '/v1/events']) {
    const answer = await http(`${origin}${path}`);
    assert.equal(answer.status, 401, path);
    assert.equal(code(answer), 'UNAUTHENTICATED');
  }
  const token = await createToken(p.stateDir, 'ci');
  const withToken = await http(`${origin}/v1/listLeases`, { method: 'POST', headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(withToken.status, 401, "the dashboard's listener takes its cookie only");
  const forged = await http(`${origin}/v1/whoami`, { headers: { cookie: `baton_ui_${new URL(origin).port}=000000000000.${'A'.repeat(43)}` } });
  assert.equal(forged.status, 401);
  assert.match(forged.body, /session key/);
  const forgedBoth = await http(`${origin}/v1/whoami`, { headers: { cookie: `baton_ui_${new URL(origin).port}=000000000000.${'A'.repeat(43)}`, 'x-baton-session': 'B'.repeat(43) } });
  assert.equal(forgedBoth.status, 401);
  assert.match(forgedBoth.body, /run `baton ui`/);
});

test('the cookie works only from the dashboard own origin', async (t) => {
  const p = project(t);
  const d = await daemon(t, p);
  await d.client().acquire('held', { owner: 'someone', ttlMs: 60_000 });
  const link = await d.client().dashboardLink();
  const { session } = await signIn(link.url);
  const json = { ...session, 'content-type': 'application/json' };
  const post = (headers: Record<string, string>, op = 'forceRelease', body = '{"key":"held"}'): Promise<Answer> => http(`${link.origin}/v1/${op}`, { method: 'POST', headers: { ...json, ...headers }, body });

  const noOrigin = await post({});
  assert.equal(noOrigin.status, 403);
  assert.equal(code(noOrigin), 'PERMISSION_DENIED');
  const foreign = await post({ origin: 'http://127.0.0.1:1' });
  assert.equal(foreign.status, 403, 'another port of 127.0.0.1 is the same site, not the same origin');
  assert.match(foreign.body, /http:\/\/127\.0\.0\.1:1/);
  const crossSite = await http(`${link.origin}/v1/status`, { headers: { ...session, 'sec-fetch-site': 'cross-site' } });
  assert.equal(crossSite.status, 403, 'a cross-site read is refused too');
  const sameSite = await post({ origin: link.origin, 'sec-fetch-site': 'same-site' });
  assert.equal(sameSite.status, 403);
  assert.equal((await d.client().listLeases()).length, 1, 'nothing refused changed anything');

  const own = await post({ origin: link.origin, 'sec-fetch-site': 'same-origin' });
  assert.equal(own.status, 200, own.body);
  assert.equal(JSON.parse(own.body), 1);
  assert.equal((await d.client().listLeases()).length, 0);
});

test('a read-only session and a read-only token read everything and change nothing', async (t) => {
  const p = project(t);
  const d = await daemon(t, p, ['--listen', '127.0.0.1:0']);
  await d.client().acquire('held', { owner: 'someone', ttlMs: 60_000 });
  const link = await d.client().dashboardLink({ readOnly: true });
  assert.equal(link.readOnly, true);
  assert.equal(link.origin, `http://${d.record.listen}`, 'a daemon on TCP serves the dashboard there');
  const { session } = await signIn(link.url);
  const headers = { ...session, origin: link.origin, 'content-type': 'application/json' };
  assert.deepEqual(JSON.parse((await http(`${link.origin}/v1/whoami`, { headers: session })).body).readOnly, true);
  const read = await http(`${link.origin}/v1/listLeases`, { method: 'POST', headers, body: '{}' });
  assert.equal(read.status, 200);
  assert.equal(JSON.parse(read.body).length, 1);
  for (const [op, body] of [['forceRelease', '{"key":"held"}'], ['sweep', '{}'], ['addTask', '{"spec":{"title":"x"}}'], ['gitStatus', '{}']] as const) {
    const refused = await http(`${link.origin}/v1/${op}`, { method: 'POST', headers, body });
    assert.equal(refused.status, 403, op);
    assert.equal(code(refused), 'PERMISSION_DENIED');
    assert.match(refused.body, new RegExp(`read-only: it cannot call ${op}`));
  }
  const mint = await http(`${link.origin}/v1/ui/link`, { method: 'POST', headers, body: '{"readOnly":true}' });
  assert.equal(mint.status, 403, 'a dashboard session mints no links (it would outlive itself)');

  const token = await createToken(p.stateDir, 'monitor', { readOnly: true });
  const bearer = { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' };
  assert.equal((await http(`${link.origin}/v1/listLeases`, { method: 'POST', headers: bearer, body: '{}' })).status, 200);
  const refused = await http(`${link.origin}/v1/forceRelease`, { method: 'POST', headers: bearer, body: '{"key":"held"}' });
  assert.equal(refused.status, 403);
  assert.match(refused.body, new RegExp(`token:${token.id} is read-only`));
  const tokenLink = await http(`${link.origin}/v1/ui/link`, { method: 'POST', headers: bearer, body: '{}' });
  assert.equal(JSON.parse(tokenLink.body).readOnly, true, "a read-only token's link is read-only");
  // A session lives only as long as the token that asked for it.
  const viaToken = await signIn(JSON.parse(tokenLink.body).url);
  assert.equal((await http(`${link.origin}/v1/whoami`, { headers: viaToken.session })).status, 200);
  const { revokeToken } = await import('../../src/project/tokens.ts');
  assert.equal(await revokeToken(p.stateDir, token.id), true);
  assert.equal((await http(`${link.origin}/v1/whoami`, { headers: viaToken.session })).status, 401, "the revoked token's session ended with it");
  const full = await createToken(p.stateDir, 'admin');
  const released = await http(`${link.origin}/v1/forceRelease`, { method: 'POST', headers: { ...bearer, authorization: `Bearer ${full.token}` }, body: '{"key":"held"}' });
  assert.equal(released.status, 200, 'a full token still acts on the same listener');
});

test('a restarted daemon listens on the same port, and the signed-in browser stays signed in', async (t) => {
  const p = project(t);
  const first = await startDaemon(p.stateDir, { cwd: p.dir, env: { BATON_UI_DIR: p.uiDir } });
  const link = await first.client().dashboardLink();
  const { session } = await signIn(link.url);
  const unused = await first.client().dashboardLink();
  assert.equal(await first.stop(), 0);
  await assert.rejects(http(`${link.origin}/v1/whoami`, { headers: session }), 'nothing listens while the daemon is down');

  const second = await daemon(t, p);
  const whoami = await http(`${link.origin}/v1/whoami`, { headers: session });
  assert.equal(whoami.status, 200, whoami.body);
  assert.equal(JSON.parse(whoami.body).readOnly, false);
  assert.equal((await http(unused.url)).status, 401, 'links are not kept across a restart: only sessions are');
  assert.notEqual(second.record.pid, first.record.pid);
});
