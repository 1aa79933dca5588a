// The dashboard's keyboard, in a real browser: every shortcut does what its button's
// tooltip says (and aria-keyshortcuts names it); none fires while typing in the filter;
// single-key shortcuts can be turned off (WCAG 2.1.4); ? opens the sheet, Escape closes it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { screenshot, sel, startDashboard, waitForText, type Dashboard, type PageElement } from './dashboard-fixture.ts';

let dash: Dashboard;
const tokens: Record<string, number> = {};
before(async () => {
  dash = await startDashboard();
  for (const key of ['kb/a', 'kb/b', 'kb/c']) tokens[key] = (await dash.client().acquire(key, { owner: 'keyboard-test', ttlMs: 600_000 })).token;
});
after(async () => {
  await dash?.close();
});

/** The operations the page POSTs, as they go out. */
function recordCalls(page: Page): { since(mark: number): string[]; mark(): number; bodies: Array<{ op: string; body: string }> } {
  const calls: string[] = [];
  const bodies: Array<{ op: string; body: string }> = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() === 'POST' && path.startsWith('/v1/')) {
      calls.push(path.slice(4));
      bodies.push({ op: path.slice(4), body: r.postData() ?? '' });
    }
  });
  return { since: (mark) => calls.slice(mark), mark: () => calls.length, bodies };
}

const row = (key: string): string => `${sel('lease-row')}[data-key="${key}#${tokens[key]}"]`;
const exists = (page: Page, selector: string): Promise<boolean> => page.$(selector).then((h) => h !== null);
const settle = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function blur(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?(): void } | null } }).document.activeElement?.blur?.());
}

async function shiftS(page: Page): Promise<void> {
  await page.keyboard.down('Shift');
  await page.keyboard.press('S');
  await page.keyboard.up('Shift');
}

async function selectedKey(page: Page): Promise<string | null> {
  return page.$eval(`${sel('lease-list')}`, (list) => (list as unknown as PageElement).querySelector('[aria-selected="true"]')?.getAttribute('data-key') ?? null);
}

async function tooltip(page: Page, testid: string): Promise<{ title: string; keys: string | null }> {
  return page.$eval(sel(testid), (b) => ({ title: (b as unknown as PageElement).getAttribute('title') ?? '', keys: (b as unknown as PageElement).getAttribute('aria-keyshortcuts') }));
}

test('every shortcut does what its tooltip says', async () => {
  const { page, context } = await dash.open({ view: 'holders' });
  const calls = recordCalls(page);
  try {
    await page.waitForSelector(row('kb/c'));
    // The buttons: each names its key in the tooltip and in aria-keyshortcuts.
    const expected: Record<string, [string, string, RegExp]> = {
      pause: ['S', 'S', /pause/i],
      sync: ['Shift+S', 'Shift+S', /sync/i],
      'details-button': ['D', 'D', /details/i],
      undo: ['Z', 'Z', /undo/i],
      help: ['?', '?', /shortcuts/i],
    };
    for (const [testid, [keys, label, what]] of Object.entries(expected)) {
      const t = await tooltip(page, testid);
      assert.equal(t.keys, keys, `${testid}: aria-keyshortcuts`);
      assert.ok(t.title.endsWith(`(${label})`), `${testid}'s tooltip names ${label}: ${t.title}`);
      assert.match(t.title, what);
    }
    assert.equal((await tooltip(page, 'pause')).title.startsWith('Pause live updates'), true);
    await blur(page);

    // S: "Pause live updates: freeze the page while you look (events are kept)", and again to resume.
    await page.keyboard.press('s');
    await page.waitForSelector(sel('paused'));
    assert.equal(await page.$eval(sel('pause'), (b) => (b as unknown as PageElement).getAttribute('aria-pressed')), 'true');
    assert.match((await tooltip(page, 'pause')).title, /^Resume live updates/);
    const whilePaused = await dash.agent.call<{ token: number }>('acquire', 'kb/while-paused', { owner: 'keyboard-test', ttlMs: 600_000 });
    tokens['kb/while-paused'] = whilePaused.token;
    await settle(1000);
    assert.equal(await exists(page, row('kb/while-paused')), false, 'frozen while paused');
    await screenshot(page, 'paused');
    await page.keyboard.press('s');
    await page.waitForSelector(row('kb/while-paused'), { timeout: 10_000 });
    assert.equal(await exists(page, sel('paused')), false);

    // Shift+S: "Sync now: fetch everything from the daemon again".
    await settle(600);
    const before = calls.mark();
    await shiftS(page);
    await settle(800);
    const synced = calls.since(before);
    for (const list of ['listLeases', 'listSessions', 'listTasks', 'budgetStatus']) assert.ok(synced.includes(list), `Shift+S refetched ${list}: ${synced.join(', ')}`);

    // Arrows and J/K move through the rows.
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((s: string) => (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector(s) !== null, {}, `${row('kb/a')}[aria-selected="true"]`);
    await page.keyboard.press('j');
    assert.equal(await waitSelected(page, `kb/b#${tokens['kb/b']}`), true);
    await page.keyboard.press('k');
    assert.equal(await waitSelected(page, `kb/a#${tokens['kb/a']}`), true);

    // D: "Details of the selected row"; D again hides them; Escape closes them too.
    await page.keyboard.press('d');
    await page.waitForSelector(sel('details'));
    await waitForText(page, sel('details'), 'kb/a');
    assert.match((await tooltip(page, 'details-button')).title, /\(D\)$/);
    await screenshot(page, 'details');
    await page.keyboard.press('d');
    await page.waitForSelector(sel('details'), { hidden: true });
    await page.keyboard.press('d');
    await page.waitForSelector(sel('details'));
    await page.keyboard.press('Escape');
    await page.waitForSelector(sel('details'), { hidden: true });

    // Ctrl+Enter and Cmd+Enter confirm the open dialog; Z undoes the newest action in its undo window.
    await page.click(`${row('kb/c')} ${sel('action-force-release')}`);
    await page.waitForSelector(sel('confirm-dialog'));
    assert.equal(await page.$eval(sel('confirm'), (b) => (b as unknown as PageElement).getAttribute('aria-keyshortcuts')), 'Meta+Enter Control+Enter');
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Control');
    await page.waitForSelector(sel('confirm-dialog'), { hidden: true });
    await page.click(`${row('kb/b')} ${sel('action-force-release')}`);
    await page.waitForSelector(sel('confirm-dialog'));
    await page.keyboard.down('Meta');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Meta');
    await page.waitForSelector(sel('confirm-dialog'), { hidden: true });
    await page.waitForFunction((s: string) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(s).length === 2, {}, sel('pending-action'));
    assert.match((await tooltip(page, 'undo')).title, /^Undo the last action/);
    await blur(page);
    await page.keyboard.press('z');
    await page.waitForSelector(`${sel('action-result')}[data-outcome="undone"]`);
    await waitForText(page, `${sel('action-result')}[data-outcome="undone"]`, 'kb/b');
    // kb/c goes when its window ends; kb/b was never sent.
    await page.waitForSelector(row('kb/c'), { hidden: true, timeout: 15_000 });
    await settle(500);
    assert.deepEqual((await dash.client().getLease('kb/c')).holders, []);
    assert.equal((await dash.client().getLease('kb/b')).holders[0]?.token, tokens['kb/b'], 'the undone action was not sent');
    const released = calls.bodies.filter((b) => b.op === 'forceRelease').map((b) => (JSON.parse(b.body) as { key: string }).key);
    assert.deepEqual(released, ['kb/c']);

    // ?: "Keyboard shortcuts"; Escape closes the sheet, and focus goes back where it was.
    await blur(page);
    await page.keyboard.press('?');
    await page.waitForSelector(sel('shortcut-sheet'));
    for (const key of ['S', 'Shift+S', 'D', 'Z', '?', 'Ctrl+Enter']) await waitForText(page, sel('shortcut-sheet'), key);
    await screenshot(page, 'shortcut-sheet');
    await page.keyboard.press('Escape');
    await page.waitForSelector(sel('shortcut-sheet'), { hidden: true });
    // The button opens it too.
    await page.click(sel('help'));
    await page.waitForSelector(sel('shortcut-sheet'));
    await page.keyboard.press('Escape');
    await page.waitForSelector(sel('shortcut-sheet'), { hidden: true });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: PageElement | null } }).document.activeElement?.getAttribute('data-testid')), 'help', 'focus back on the button');
  } finally {
    await context.close();
  }
});

async function waitSelected(page: Page, key: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if ((await selectedKey(page)) === key) return true;
    await settle(50);
  }
  throw new Error(`row ${key} was not selected (selected: ${await selectedKey(page)})`);
}

test('no shortcut fires while typing in the filter', async () => {
  const { page, context } = await dash.open({ view: 'holders' });
  const calls = recordCalls(page);
  try {
    await page.waitForSelector(row('kb/a'));
    await settle(800);
    await page.click(sel('filter'));
    const before = calls.mark();
    await page.keyboard.type('sdzjk?');
    await shiftS(page);
    await settle(600);
    assert.equal(await page.$eval(sel('filter'), (e) => (e as unknown as { value: string }).value), 'sdzjk?S');
    assert.equal(await exists(page, sel('paused')), false, 's paused the stream');
    assert.equal(await exists(page, sel('shortcut-sheet')), false, '? opened the sheet');
    assert.equal(await exists(page, sel('details')), false, 'd opened details');
    assert.equal(await selectedKey(page).catch(() => null), null, 'j/k moved the selection');
    assert.ok(!calls.since(before).includes('listSessions'), `Shift+S synced: ${calls.since(before).join(', ')}`);
    // The filter did filter, and clearing it brings the rows back.
    assert.equal(await exists(page, row('kb/a')), false);
    await page.click(sel('filter'), { count: 3 });
    await page.keyboard.press('Backspace');
    await page.waitForSelector(row('kb/a'));
  } finally {
    await context.close();
  }
});

test('single-key shortcuts can be turned off, and stay off after a reload', async () => {
  const { page, context, link } = await dash.open({ view: 'holders' });
  const calls = recordCalls(page);
  try {
    await page.waitForSelector(row('kb/a'));
    await page.click(sel('shortcuts-toggle'));
    assert.equal(await page.$eval(sel('shortcuts-toggle'), (e) => (e as unknown as { checked: boolean }).checked), false);
    // No button promises a key any more.
    for (const testid of ['pause', 'sync', 'details-button', 'undo', 'help']) {
      const t = await tooltip(page, testid);
      assert.equal(t.keys, null, `${testid} still announces ${t.keys}`);
      assert.ok(!/\((S|Shift\+S|D|Z|\?)\)$/.test(t.title), `${testid}'s tooltip still names a key: ${t.title}`);
    }
    await blur(page);
    await settle(800);
    const before = calls.mark();
    for (const key of ['s', 'd', 'z', '?', 'j'] as const) await page.keyboard.press(key);
    await shiftS(page);
    await settle(600);
    assert.equal(await exists(page, sel('paused')), false, 's paused the stream');
    assert.equal(await exists(page, sel('shortcut-sheet')), false, '? opened the sheet');
    assert.equal(await exists(page, sel('details')), false, 'd opened details');
    assert.ok(!calls.since(before).includes('listSessions'), `Shift+S synced: ${calls.since(before).join(', ')}`);
    // A pending action's Undo promises no key either.
    await page.click(`${row('kb/a')} ${sel('action-force-release')}`);
    await page.waitForSelector(sel('confirm-dialog'));
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter'); // Ctrl+Enter is no single key: still on
    await page.keyboard.up('Control');
    await page.waitForSelector(sel('pending-action'));
    const promised = await page.$$eval('[aria-keyshortcuts]', (els) => els.map((e) => (e as unknown as PageElement).getAttribute('aria-keyshortcuts')!).filter((k) => /^(S|Shift\+S|D|Z|\?|J|K)$/i.test(k)));
    assert.deepEqual(promised, [], 'single-key shortcuts announced while off');
    await page.click(sel('toast-undo'));
    await page.waitForSelector(`${sel('action-result')}[data-outcome="undone"]`);
    // Buttons still work, and so does Escape.
    await page.click(sel('help'));
    await page.waitForSelector(sel('shortcut-sheet'));
    await waitForText(page, sel('shortcut-sheet'), '(off)');
    await page.keyboard.press('Escape');
    await page.waitForSelector(sel('shortcut-sheet'), { hidden: true });

    // Off survives a reload; the sheet's own switch turns them back on.
    await page.goto(`${link.origin}/ui/?view=holders`, { waitUntil: 'load' });
    await page.waitForSelector(row('kb/a'));
    assert.equal(await page.$eval(sel('shortcuts-toggle'), (e) => (e as unknown as { checked: boolean }).checked), false);
    await blur(page);
    await page.keyboard.press('s');
    await settle(300);
    assert.equal(await exists(page, sel('paused')), false);
    await page.click(sel('help'));
    await page.waitForSelector(sel('shortcut-sheet-toggle'));
    await page.click(sel('shortcut-sheet-toggle'));
    await page.keyboard.press('Escape');
    await page.waitForSelector(sel('shortcut-sheet'), { hidden: true });
    await blur(page);
    await page.keyboard.press('s');
    await page.waitForSelector(sel('paused'));
    await page.keyboard.press('s');
    await page.waitForSelector(sel('paused'), { hidden: true });
    assert.equal((await dash.client().getLease('kb/a')).holders.length, 1, 'the undone action was not sent');
  } finally {
    await context.close();
  }
});
