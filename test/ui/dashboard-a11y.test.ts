// An axe-core scan of each of the dashboard's views, with something in every one (and
// of its dialogs and details panels), in light and dark; a screenshot of each into
// $BATON_SCREENSHOTS when it is set.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { axeScan, describeViolations } from '../../support/browser.ts';
import { live, populate, screenshot, sel, startDashboard, VIEWS, type Dashboard } from './dashboard-fixture.ts';

let dash: Dashboard;
let page: Page;
let origin: string;
before(async () => {
  dash = await startDashboard();
  await populate(dash);
  const opened = await dash.open({ view: 'holders' });
  page = opened.page;
  origin = opened.link.origin;
});
after(async () => {
  await dash?.close();
});

/** Scans the page as it is, in light and in dark; screenshots both. */
async function scan(name: string): Promise<void> {
  const found: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    // Let transitions and the colour change settle before judging contrast.
    await new Promise((r) => setTimeout(r, 150));
    const violations = await axeScan(page);
    if (violations.length > 0) found.push(`${scheme}:\n${describeViolations(violations)}`);
    await screenshot(page, scheme === 'light' ? name : `${name}-dark`);
  }
  assert.equal(found.length, 0, `axe-core found violations in ${name}:\n${found.join('\n')}`);
}

async function show(query: string, waitFor: string): Promise<void> {
  await page.goto(`${origin}/ui/?${query}`, { waitUntil: 'load' });
  await live(page);
  await page.waitForSelector(waitFor, { timeout: 10_000 });
}

for (const view of VIEWS) {
  const rows: Record<string, string> = { holders: 'lease-row', queue: 'task-row', agents: 'session-row', budgets: 'budget-row', timeline: 'event-row' };
  test(`the ${view} view: no axe-core violations`, async () => {
    await show(`view=${view}`, sel(rows[view]!));
    await scan(view);
  });
}

test('views with their details, filters and layouts open: no axe-core violations', async () => {
  await show('view=holders&layout=tree', sel('path-row'));
  await scan('holders-tree');
  const lease = (await dash.client().listLeases({ prefix: 'repo/' }))[0]!;
  await show(`view=holders&sel=${encodeURIComponent(`${lease.key}#${lease.token}`)}&details=1`, sel('lease-waiters'));
  await scan('holders-details');
  await show('view=queue&state=failed', sel('failure-groups'));
  await scan('queue-failed');
  const [task] = await dash.client().listTasks({ status: 'dead' });
  await show(`view=queue&sel=${task!.id}&details=1`, sel('details'));
  await scan('queue-details');
  const [session] = await dash.client().listSessions();
  await show(`view=agents&sel=${session!.id}&details=1`, sel('details'));
  await scan('agents-details');
  await show('view=timeline&details=1&seq=3', sel('details'));
  await scan('timeline-details');
});

test('the shortcut sheet and the confirmation dialog: no axe-core violations', async () => {
  await show('view=holders', sel('lease-row'));
  await page.click(sel('help'));
  await page.waitForSelector(sel('shortcut-sheet'));
  await scan('shortcut-sheet');
  await page.keyboard.press('Escape');
  await page.waitForSelector(sel('shortcut-sheet'), { hidden: true });
  await page.click(`${sel('lease-row')} ${sel('action-force-release')}`);
  await page.waitForSelector(sel('confirm-dialog'));
  await scan('confirm-dialog');
  await page.click(sel('confirm-cancel'));
  await page.waitForSelector(sel('confirm-dialog'), { hidden: true });
});
