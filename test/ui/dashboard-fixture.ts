// What the dashboard's browser tests share: a real daemon in a temp project, a
// headless Chromium signed in with `baton ui`, another process acting as an
// agent, and screenshots into $BATON_SCREENSHOTS when it is set.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import type { RemoteCoordinator } from '../../src/client/index.ts';
import { launchBrowser, login, startAgent, startUiDaemon, type Agent, type UiDaemon, type UiLink } from '../../support/browser.ts';

// The DOM as the functions that run in the page see it (puppeteer serialises them; the Node side's types have no DOM).
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  focus(): void;
}
declare const document: { activeElement: PageElement | null; querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };
export type { PageElement };

export const VIEWS = ['holders', 'queue', 'agents', 'budgets', 'timeline'] as const;
export type View = (typeof VIEWS)[number];

export interface Dashboard {
  ui: UiDaemon;
  browser: Browser;
  /** A client of the daemon over its unix socket (this process). */
  client(): RemoteCoordinator;
  /** Another process, an agent of the daemon. */
  agent: Agent;
  /** A signed-in page (a fresh browser context each time unless one is given), on `view`. */
  open(options?: { readOnly?: boolean; view?: View; query?: string; context?: BrowserContext }): Promise<{ page: Page; link: UiLink; context: BrowserContext }>;
  close(): Promise<void>;
}

export async function startDashboard(options: { env?: Record<string, string> } = {}): Promise<Dashboard> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-ui-test-'));
  const ui = await startUiDaemon(dir, options.env ? { env: options.env } : {});
  const [browser, agent] = await Promise.all([launchBrowser(), startAgent(ui.daemon.record.socket!)]);
  let client: RemoteCoordinator | undefined;
  let clientOf: UiDaemon['daemon'] | undefined;
  const contexts: BrowserContext[] = [];
  return {
    ui,
    browser,
    agent,
    client() {
      // A restart makes a new daemon: its own client.
      if (client === undefined || clientOf !== ui.daemon) {
        client = ui.daemon.client();
        clientOf = ui.daemon;
      }
      return client;
    },
    async open(o = {}) {
      const context = o.context ?? (await browser.createBrowserContext());
      if (o.context === undefined) contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => process.stderr.write(`[page error] ${(error as Error).message}\n`));
      const link = await ui.link(o.readOnly ? { readOnly: true } : {});
      await login(page, link);
      if (o.view !== undefined || o.query !== undefined) await page.goto(`${link.origin}/ui/?${o.view ? `view=${o.view}` : ''}${o.query ? `&${o.query}` : ''}`, { waitUntil: 'load' });
      await live(page);
      return { page, link, context };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await agent.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await ui.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sel = (testid: string): string => `[data-testid="${testid}"]`;

/** Waits for the connection badge to say `state` (live by default). */
export async function live(page: Page, state = 'live', timeout = 20_000): Promise<void> {
  await page.waitForSelector(`${sel('connection')}[data-state="${state}"]`, { timeout });
}

/** Switches the page to `view` the way a person does: its navigation link. */
export async function gotoView(page: Page, view: View): Promise<void> {
  await page.click(sel(`nav-${view}`));
  await page.waitForSelector(sel(`view-${view}`), { timeout: 10_000 });
}

/** The text of the first element matching `selector`, or null. */
export async function text(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (e) => e.textContent).catch(() => null);
}

/** Waits until some element matching `selector` contains `needle`. */
export async function waitForText(page: Page, selector: string, needle: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction((s: string, n: string) => Array.from(document.querySelectorAll(s)).some((e) => (e.textContent ?? '').includes(n)), { timeout, polling: 50 }, selector, needle);
}

/** Saves a screenshot as $BATON_SCREENSHOTS/<name>.png; nothing when the variable is unset. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.BATON_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) as `${string}.png`, fullPage: false });
}

export interface Answer {
  status: number;
  body: string;
  json(): { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** A raw HTTP request to the dashboard's listener, as something other than its page would send it. */
export function raw(origin: string, method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<Answer> {
  const url = new URL(path, origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, async (res) => {
      let got = '';
      for await (const chunk of res) got += String(chunk);
      resolve({ status: res.statusCode!, body: got, json: () => JSON.parse(got) as ReturnType<Answer['json']> });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the page authenticates its calls with: its cookie, and the session key it keeps in its origin's storage. */
export async function sessionHeaders(page: Page): Promise<{ cookie: string; 'x-baton-session': string }> {
  const key = await page.evaluate(() => localStorage.getItem('baton.session-key'));
  if (key === null) throw new Error('the page keeps no session key');
  return { cookie: await cookieHeader(page), 'x-baton-session': key };
}

/** The `name=value` of the dashboard's cookie in the page's browser context. */
export async function cookieHeader(page: Page): Promise<string> {
  const cookies = await page.browserContext().cookies();
  const found = cookies.find((c) => c.name.startsWith('baton_ui'));
  if (found === undefined) throw new Error(`no dashboard cookie in the context: ${cookies.map((c) => c.name).join(', ')}`);
  return `${found.name}=${found.value}`;
}

/**
 * A project with something in every view: agents (one of them another process, one gone
 * silent), leases and path reservations with a waiter, tasks in every state (a failure
 * repeated, a dead one, a blocked dependant), budgets near and over their limit with a
 * reservation, a rate limit that throttled someone, and the events all that wrote.
 */
export async function populate(dash: Dashboard): Promise<void> {
  const c = dash.client();
  const a = dash.agent;
  const builder = await a.call<{ id: string }>('register', { name: 'builder', kind: 'claude', ttlMs: 60_000 });
  const reviewer = await c.register({ name: 'reviewer', kind: 'codex', ttlMs: 60_000, pid: null, autoHeartbeat: false });
  await a.call('acquire', 'repo/main', { owner: 'builder', sessionId: builder.id, ttlMs: 0 });
  await a.call('acquire', 'path:src/server/api.ts', { owner: 'builder', sessionId: builder.id, ttlMs: 0 });
  await a.call('acquire', 'path:docs/**', { owner: 'builder', sessionId: builder.id, ttlMs: 0 });
  await c.acquire('path:ui/src/App.tsx', { owner: 'reviewer', sessionId: reviewer.id, ttlMs: 120_000 });
  await c.acquire('deploy/staging', { owner: 'reviewer', ttlMs: 20_000 });
  // A waiter queued behind the builder (it gives up after a minute; the tests are done by then).
  void a.call('acquire', 'repo/main', { owner: 'reviewer', timeoutMs: 60_000 }).catch(() => undefined);

  const [lint, build, docs] = await c.addTasks([
    { title: 'lint the server', queue: 'ci', priority: 5 },
    { title: 'build the package', queue: 'ci', maxAttempts: 3 },
    { title: 'write the docs', queue: 'docs', maxAttempts: 1 },
  ]);
  await c.addTasks([
    { title: 'publish the release', queue: 'ci', dependsOn: [build!.id] },
    { title: 'announce', queue: 'docs', dependsOn: [docs!.id] },
    { title: 'nightly fuzz', queue: 'ci', runAt: Date.now() + 3_600_000 },
  ]);
  for (let i = 0; i < 2; i++) {
    const [claim] = await c.claimByIds(reviewer.id, [build!.id]);
    await c.fail(claim!, `Error: ENOSPC: no space left on device, write (attempt ${i + 1})`, { retryInMs: 0 });
  }
  const [dead] = await c.claimByIds(reviewer.id, [docs!.id]);
  await c.fail(dead!, 'TypeError: cannot read properties of undefined (reading "title")');
  await a.call('claimByIds', builder.id, [lint!.id]);
  const done = await c.addTasks([{ title: 'format', queue: 'ci' }, { title: 'typecheck', queue: 'ci' }]);
  for (const t of done) {
    const [claim] = await c.claimByIds(reviewer.id, [t.id]);
    await c.complete(claim!, { ok: true });
  }

  await c.setBudget({ limit: 1_000_000, period: 'daily' });
  await c.setBudget({ agent: 'builder', limit: 50_000, period: 'daily', warnPercent: 50 });
  await c.setBudget({ model: 'opus', limit: 40_000, period: 'monthly' });
  await c.setBudget({ model: 'haiku', limit: 1_000, period: 'none' });
  await a.call('report', { agent: 'builder', model: 'opus', promptTokens: 20_000, completionTokens: 9_000 });
  await a.call('report', { agent: 'builder', model: 'haiku', promptTokens: 1_200, completionTokens: 300 });
  await a.call('reserve', { agent: 'builder', model: 'opus', estimate: 4_000 });
  await c.setRateLimit('api/anthropic', { rate: 2, burst: 4 });
  for (let i = 0; i < 6; i++) await a.call('take', 'api/anthropic', { cost: 1 }).catch(() => undefined);
  await c.publish({ type: 'build.finished', key: 'ci', actor: 'builder', data: { ok: true, ms: 48_210 } });
}
