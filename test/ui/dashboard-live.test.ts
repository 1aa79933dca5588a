// The dashboard stays live, in a real browser against a real daemon: what another
// process does appears without a reload; a daemon restart shows as reconnecting,
// then live, with no event missing from the timeline; with the event stream
// blocked the page polls instead, says so, and goes live again when it can.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import type { BatonEvent } from '../../src/coordinator.ts';
import { login, watchProtocolState } from '../../support/browser.ts';
import { gotoView, live, screenshot, sel, startDashboard, waitForText, type Dashboard } from './dashboard-fixture.ts';

let dash: Dashboard;
before(async () => {
  dash = await startDashboard();
});
after(async () => {
  await dash?.close();
});

/** A mark on the page's window: a reload would wipe it. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => void ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
}
async function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload === true);
}

/** Records every state the connection badge takes, from now on. */
async function recordBadge(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate((selector: string) => {
    type El = { getAttribute(n: string): string | null };
    const g = globalThis as unknown as { __badge: string[]; document: { querySelector(s: string): El | null }; MutationObserver: new (cb: () => void) => { observe(n: unknown, o: object): void } };
    const seen: string[] = [];
    g.__badge = seen;
    const note = (): void => {
      const state = g.document.querySelector(selector)?.getAttribute('data-state') ?? 'none';
      if (seen.at(-1) !== state) seen.push(state);
    };
    note();
    new g.MutationObserver(note).observe(g.document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  }, sel('connection'));
  return () => page.evaluate(() => (globalThis as unknown as { __badge: string[] }).__badge);
}

async function logAfter(after: number): Promise<BatonEvent[]> {
  const out: BatonEvent[] = [];
  for (;;) {
    const page = await dash.client().events({ after: out.at(-1)?.seq ?? after, limit: 1000 });
    if (page.length === 0) return out;
    out.push(...page);
  }
}

test('what another process does appears without a reload: a lease, a claim, a budget reservation', async () => {
  const { page, context } = await dash.open({ view: 'holders' });
  try {
    await markPage(page);
    const lease = await dash.agent.call<{ token: number }>('acquire', 'live/lock', { owner: 'agent-b', ttlMs: 60_000 });
    await page.waitForSelector(`${sel('lease-row')}[data-key="live/lock#${lease.token}"]`, { timeout: 10_000 });
    await waitForText(page, `${sel('lease-row')}[data-key="live/lock#${lease.token}"]`, 'agent-b');

    await gotoView(page, 'queue');
    const task = await dash.client().addTask({ title: 'compile the docs', queue: 'live' });
    const row = `${sel('task-row')}[data-key="${task.id}"]`;
    await waitForText(page, row, 'ready');
    const session = await dash.agent.call<{ id: string }>('register', { name: 'agent-b', ttlMs: 60_000 });
    const claims = await dash.agent.call<Array<{ taskId: number }>>('claim', session.id, { queue: 'live', n: 1 });
    assert.equal(claims[0]?.taskId, task.id);
    await waitForText(page, row, 'claimed');
    await waitForText(page, row, 'agent-b');

    await gotoView(page, 'budgets');
    await dash.client().setBudget({ agent: 'agent-b', limit: 10_000 });
    const [budget] = await dash.client().budgetStatus({ agent: 'agent-b' });
    const budgetRow = `${sel('budget-row')}[data-key="${budget!.scope}"]`;
    await waitForText(page, budgetRow, '0 + 0 of 10,000');
    await dash.agent.call('reserve', { agent: 'agent-b', estimate: 1234 });
    await waitForText(page, budgetRow, '0 + 1,234 of 10,000');

    await gotoView(page, 'agents');
    await waitForText(page, `${sel('session-row')}[data-key="${session.id}"]`, 'agent-b');
    assert.ok(await stillSamePage(page), 'the page was not reloaded');
  } finally {
    await context.close();
  }
});

test('a daemon restart: the badge says reconnecting, then live, and no event is missing from the timeline', async () => {
  const { page, context } = await dash.open({ view: 'timeline' });
  try {
    await markPage(page);
    const watch = watchProtocolState(page);
    await watch.ready();
    const first = await dash.client().publish({ type: 'test.before-restart' });
    await watch.until(first.seq);
    await watch.start();
    const badge = await recordBadge(page);
    for (let i = 0; i < 5; i++) await dash.agent.call('publish', { type: 'test.before', data: { i } });

    const restarted = dash.ui.restart();
    await page.waitForFunction((s: string) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(s)?.getAttribute('data-state') !== 'live', { timeout: 10_000, polling: 20 }, sel('connection'));
    await screenshot(page, 'reconnecting');
    await restarted;
    // Written before the page is back: it must get them by resuming after its last seq.
    for (let i = 0; i < 20; i++) await dash.agent.call('publish', { type: 'test.after', data: { i } });
    await live(page, 'live', 30_000);
    const last = await dash.client().publish({ type: 'test.last' });
    await watch.until(last.seq);
    const seen = await watch.stop();

    const states = await badge();
    assert.equal(states[0], 'live', states.join(' → '));
    assert.equal(states[1], 'reconnecting', `the badge went ${states.join(' → ')}`);
    assert.equal(states.at(-1), 'live', states.join(' → '));

    const logged = (await logAfter(first.seq)).filter((e) => e.seq <= last.seq).map((e) => e.seq);
    const missing = logged.filter((s) => !seen.includes(s));
    assert.deepEqual(missing, [], `events missing from the page after the restart (seen ${seen.join(',')})`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `out of order: ${seen.join(',')}`);
    // The timeline shows the newest (it follows the tail) and the page was never reloaded.
    await page.waitForSelector(`${sel('event-row')}[data-key="${last.seq}"]`, { timeout: 10_000 });
    assert.ok(await stillSamePage(page), 'the page was not reloaded');
  } finally {
    await context.close();
  }
});

test('the event stream blocked: the page polls, says so, keeps up, and goes live again once the stream is back', async () => {
  const context = await dash.browser.createBrowserContext();
  try {
    const page = await context.newPage();
    let blocking = true;
    let blocked = 0;
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.isInterceptResolutionHandled()) return;
      const url = new URL(request.url());
      if (blocking && request.method() === 'GET' && url.pathname === '/v1/events') {
        blocked++;
        void request.abort('connectionrefused');
      } else void request.continue();
    });
    const link = await dash.ui.link();
    await login(page, link);
    await page.goto(`${link.origin}/ui/?view=holders`, { waitUntil: 'load' });
    await live(page, 'polling', 20_000);
    assert.ok(blocked >= 3, `the stream was tried (${blocked} times) before polling`);
    const badgeText = await page.$eval(sel('connection'), (e) => `${e.textContent} ${e.getAttribute('title')}`);
    assert.match(badgeText, /polling/i);
    await screenshot(page, 'polling');

    const lease = await dash.agent.call<{ token: number }>('acquire', 'poll/lock', { owner: 'agent-p', ttlMs: 60_000 });
    await page.waitForSelector(`${sel('lease-row')}[data-key="poll/lock#${lease.token}"]`, { timeout: 15_000 });
    const watch = watchProtocolState(page);
    const marker = await dash.client().publish({ type: 'test.polled' });
    await watch.until(marker.seq, 15_000);

    blocking = false;
    // The stream is tried again every ~10 s while polling.
    await live(page, 'live', 25_000);
    const after = await dash.agent.call<{ token: number }>('acquire', 'poll/after', { owner: 'agent-p', ttlMs: 60_000 });
    await page.waitForSelector(`${sel('lease-row')}[data-key="poll/after#${after.token}"]`, { timeout: 10_000 });
  } finally {
    await context.close();
  }
});
