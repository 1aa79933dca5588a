// The dashboard's actions and who may take them, in a real browser against a real daemon:
// force-release from the page frees the lease and its holder (another process) learns it
// lost it; a read-only session sees no action and its mutations are refused; a request
// without the cookie, or from another origin with it, is refused.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { cookieHeader, sessionHeaders, live, raw, screenshot, sel, startDashboard, VIEWS, waitForText, type Dashboard, type PageElement } from './dashboard-fixture.ts';

let dash: Dashboard;
before(async () => {
  dash = await startDashboard();
});
after(async () => {
  await dash?.close();
});

/** POST /v1/<operation> from the page's own script (same origin: the cookie attached by the browser, the key from the page's storage). */
async function pagePost(page: Page, operation: string, body: object): Promise<{ status: number; body: { error?: { code: string } } }> {
  return page.evaluate(
    async (op: string, payload: string) => {
      const headers = { 'content-type': 'application/json', 'x-baton-session': localStorage.getItem('baton.session-key') ?? '' };
      const res = await fetch(`/v1/${op}`, { method: 'POST', headers, body: payload });
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    },
    operation,
    JSON.stringify(body),
  );
}

test('force-release from the page frees the lease, and its holder in another process learns it lost it', async () => {
  const { lease, lost } = await dash.agent.hold('repo/main', { owner: 'stuck-agent', ttlMs: 60_000 });
  const { page, context } = await dash.open({ view: 'holders' });
  try {
    const row = `${sel('lease-row')}[data-key="repo/main#${lease.token}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    await screenshot(page, 'holders');
    await page.click(`${row} ${sel('action-force-release')}`);
    await page.waitForSelector(sel('confirm-dialog'));
    await waitForText(page, sel('confirm-dialog'), 'forceRelease');
    await screenshot(page, 'confirm-force-release');
    await page.click(sel('confirm'));
    // Sent after the undo window; the holder's next renew is refused.
    const gone = await lost;
    assert.match(gone.code, /^(STALE_TOKEN|LEASE_EXPIRED)$/);
    const info = await dash.client().getLease('repo/main');
    assert.deepEqual(info.holders, []);
    await page.waitForSelector(`${sel('action-result')}[data-outcome="ok"]`, { timeout: 10_000 });
    await page.waitForFunction((s: string) => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector(s), { timeout: 10_000 }, row);
    const events = await dash.client().events({ types: ['lease.'] });
    const released = events.filter((e) => e.key === 'repo/main' && e.type !== 'lease.acquired');
    assert.ok(released.length >= 1, JSON.stringify(events));
  } finally {
    await context.close();
  }
});

test('a read-only session sees no action anywhere, and its mutations are refused with 403', async () => {
  const held = await dash.client().acquire('ro/lease', { owner: 'someone', ttlMs: 120_000 });
  const task = await dash.client().addTask({ title: 'read-only sees me', queue: 'ro' });
  const { page, context } = await dash.open({ readOnly: true, view: 'holders' });
  try {
    await page.waitForSelector(sel('read-only'));
    await page.waitForSelector(`${sel('lease-row')}[data-key="ro/lease#${held.token}"]`);
    for (const view of VIEWS) {
      await page.goto(`${new URL(page.url()).origin}/ui/?view=${view}`, { waitUntil: 'load' });
      await live(page);
      await page.waitForSelector(sel(`view-${view}`));
      // Give the lists a moment to arrive: an action button would come with its row.
      await new Promise((r) => setTimeout(r, 300));
      const actions = await page.$$eval('[data-testid^="action-"]:not([data-testid="action-result"]), [data-testid="undo"]', (els) => els.map((e) => (e as unknown as PageElement).getAttribute('data-testid')));
      assert.deepEqual(actions, [], `read-only ${view} view shows actions`);
    }
    await screenshot(page, 'read-only');
    const refused = await pagePost(page, 'forceRelease', { key: 'ro/lease' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'PERMISSION_DENIED');
    const cancel = await pagePost(page, 'cancel', { id: task.id });
    assert.equal(cancel.status, 403);
    // Reads still work.
    const leases = await pagePost(page, 'listLeases', {});
    assert.equal(leases.status, 200);
    assert.equal((await dash.client().getLease('ro/lease')).holders.length, 1);
  } finally {
    await context.close();
    await dash.client().forceRelease('ro/lease');
  }
});

test('no cookie: 401; the cookie from another origin, or cross-site: 403; from the page itself: allowed', async () => {
  const held = await dash.client().acquire('origin/lease', { owner: 'someone', ttlMs: 120_000 });
  const { page, link, context } = await dash.open({ view: 'holders' });
  const cookie = await cookieHeader(page);
  const session = await sessionHeaders(page);
  // The key came in the sign-in redirect's fragment and left the address bar at once.
  assert.ok(!page.url().includes('session='), page.url());
  const body = JSON.stringify({ key: 'origin/lease' });
  try {
    // Without the cookie: nothing, neither the API nor the page.
    for (const [method, path] of [['GET', '/v1/whoami'], ['GET', '/v1/status'], ['GET', '/v1/events'], ['POST', '/v1/listLeases'], ['POST', '/v1/forceRelease'], ['GET', '/ui/']] as const) {
      const answer = await raw(link.origin, method, path, { origin: link.origin }, method === 'POST' ? body : '');
      assert.equal(answer.status, 401, `${method} ${path} without the cookie: ${answer.status} ${answer.body.slice(0, 200)}`);
    }
    // A made-up cookie is no better.
    const forged = cookie.replace(/=.*/, '=000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal((await raw(link.origin, 'POST', '/v1/forceRelease', { ...session, cookie: forged, origin: link.origin }, body)).status, 401);
    // The cookie alone (what any local server the browser is sent to receives) opens the page, not the API.
    assert.equal((await raw(link.origin, 'POST', '/v1/forceRelease', { cookie, origin: link.origin }, body)).status, 401);
    // With the cookie but another origin (another local program's page), or a browser saying cross-site / same-site.
    const other = 'http://127.0.0.1:1';
    const refusals: Array<Record<string, string>> = [
      { origin: other },
      { origin: 'null' },
      {},
      { origin: link.origin, 'sec-fetch-site': 'same-site' },
      { origin: link.origin, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refusals) {
      const answer = await raw(link.origin, 'POST', '/v1/forceRelease', { ...session, ...headers }, body);
      assert.equal(answer.status, 403, `forceRelease with the cookie and ${JSON.stringify(headers)}: ${answer.status} ${answer.body.slice(0, 200)}`);
      assert.equal(answer.json().error?.code, 'PERMISSION_DENIED');
    }
    const crossRead = await raw(link.origin, 'GET', '/v1/whoami', { ...session, 'sec-fetch-site': 'cross-site' });
    assert.equal(crossRead.status, 403, `a cross-site read with the cookie: ${crossRead.status}`);
    assert.equal((await dash.client().getLease('origin/lease')).holders[0]?.token, held.token, 'the lease is still held');
    // The control: the same cookie from the dashboard's own origin works (so the refusals above were about the origin).
    const own = await raw(link.origin, 'POST', '/v1/listLeases', { ...session, origin: link.origin, 'sec-fetch-site': 'same-origin' }, '{}');
    assert.equal(own.status, 200, own.body);
  } finally {
    await context.close();
    await dash.client().forceRelease('origin/lease');
  }
});

test("a page on another loopback origin, in the signed-in browser, cannot use the dashboard's session", async (t) => {
  const held = await dash.client().acquire('evil/target', { owner: 'victim', ttlMs: 120_000 });
  const { page, link, context } = await dash.open({ view: 'holders' });
  // Another local program's page: same site as the dashboard (127.0.0.1), another origin (port).
  const evil: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html lang="en"><head><title>elsewhere</title></head><body><p>another local page</p></body></html>');
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  t.after(() => evil.close());
  const evilOrigin = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
  const attacker = await context.newPage();
  try {
    const statuses: Array<{ url: string; status: number }> = [];
    attacker.on('response', (r) => {
      if (r.url().startsWith(link.origin)) statuses.push({ url: r.url(), status: r.status() });
    });
    await attacker.goto(evilOrigin, { waitUntil: 'load' });
    const outcome = await attacker.evaluate(async (target: string) => {
      const body = JSON.stringify({ key: 'evil/target' });
      const results: string[] = [];
      // A "simple" request: no preflight, so the browser sends it, cookie and all (same site). The daemon must refuse it.
      try {
        const r = await fetch(`${target}/v1/forceRelease`, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body });
        results.push(`no-cors: ${r.type}`);
      } catch (error) {
        results.push(`no-cors threw: ${String(error)}`);
      }
      // A JSON request needs a CORS preflight, which the daemon does not grant.
      try {
        const r = await fetch(`${target}/v1/forceRelease`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body });
        results.push(`cors: ${r.status}`);
      } catch (error) {
        results.push(`cors threw: ${String(error)}`);
      }
      // Reading: the answer is not the other page's to see.
      try {
        const r = await fetch(`${target}/v1/whoami`, { credentials: 'include' });
        results.push(`read: ${r.status} ${await r.text()}`);
      } catch (error) {
        results.push(`read threw: ${String(error)}`);
      }
      return results;
    }, link.origin);
    // The browser shows the other page nothing (Chromium may also keep the cookie, bound to its port, off these requests)...
    assert.match(outcome[0]!, /^no-cors: opaque$|^no-cors threw: TypeError/);
    assert.match(outcome[1]!, /^cors threw: TypeError/);
    assert.match(outcome[2]!, /^read threw: TypeError/);
    // ...and what reached the daemon was refused there, not only hidden by the browser.
    assert.ok(statuses.length >= 1, 'the simple POST reached the daemon');
    for (const s of statuses) assert.ok(s.status === 401 || s.status === 403, `${s.url} answered ${s.status} to another origin's page`);
    assert.equal((await dash.client().getLease('evil/target')).holders[0]?.token, held.token, 'the lease is still held');
    // And the dashboard's own page, in the same browser, still acts.
    assert.equal(await page.evaluate(async () => (await fetch('/v1/whoami', { headers: { 'x-baton-session': localStorage.getItem('baton.session-key') ?? '' } })).status), 200);
    // The other origin cannot read the key: localStorage is per origin, port included (the cookie jar is not).
    assert.equal(await attacker.evaluate(() => localStorage.getItem('baton.session-key')), null);
  } finally {
    await attacker.close();
    await context.close();
    await dash.client().forceRelease('evil/target');
  }
});
