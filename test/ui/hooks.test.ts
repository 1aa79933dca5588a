// baton/react as its users use it: a small React app (test/ui/hooks-app),
// built with Vite and served by a real daemon as a view of one's own
// ($BATON_UI_DIR), in a real headless Chromium signed in with `baton ui`'s
// link. Another process changes things through the daemon; the page must
// show them without a reload, over one shared stream, with a handler that
// changes every render never resubscribing; and with the stream blocked it
// must poll, say so, keep up, and go live again once the stream is back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import { build } from 'vite';
import type { RemoteCoordinator } from '../../src/client/index.ts';
import type { StoreStats } from '../../src/react/types.ts';
import { launchBrowser, login, startUiDaemon, type UiDaemon } from '../../support/browser.ts';

const appDir = fileURLToPath(new URL('./hooks-app/', import.meta.url));

interface Probe {
  renders: { leases: number; titles: number; ready: number; tasks: number };
  handled: { seq: number; type: string; version: number }[];
  connections: string[];
  seqs: number[];
  stats(): StoreStats | null;
  actions: { pause(): void; resume(): void; sync(): Promise<void> };
}

let dir: string;
let ui: UiDaemon;
let client: RemoteCoordinator;
let browser: Browser;
let page: Page;
let origin: string;
/** Uncaught errors in the first page (React's "maximum update depth" among them). */
const pageErrors: string[] = [];
/** GET /v1/events requests the first page made. */
let streams = 0;

/** The app's counters, read in the page. */
const probe = (p: Page = page): Promise<Omit<Probe, 'stats' | 'actions'> & { stats: StoreStats }> =>
  p.evaluate(() => {
    const h = (globalThis as unknown as { hooksTest: Probe }).hooksTest;
    return { renders: { ...h.renders }, handled: [...h.handled], connections: [...h.connections], seqs: [...h.seqs], stats: h.stats()! };
  });

/** Calls one of the app's actions (pause, resume, sync) in the page. */
const act = (name: 'pause' | 'resume' | 'sync'): Promise<void> => page.evaluate((n) => (globalThis as unknown as { hooksTest: Probe }).hooksTest.actions[n](), name);

/** Consecutive seqs, none twice: a timeline with no gap. */
function assertNoGap(seqs: number[]): void {
  assert.ok(seqs.length > 0);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `seq ${seqs[i - 1]} is followed by ${seqs[i]}`);
}

const isEventStream = (req: HTTPRequest): boolean => req.method() === 'GET' && new URL(req.url()).pathname === '/v1/events';

/** Waits until the page's connection badge says `state`; how long it took, in ms. */
async function connection(p: Page, state: string, timeout: number): Promise<number> {
  const started = performance.now();
  await p.waitForSelector(`#connection[data-connection="${state}"]`, { timeout });
  return Math.round(performance.now() - started);
}

/** Waits until a lease on `key` is listed; ms. */
async function leaseShown(p: Page, key: string, timeout = 10_000): Promise<number> {
  const started = performance.now();
  await p.waitForSelector(`#leases li[data-key="${key}"]`, { timeout });
  return Math.round(performance.now() - started);
}

/** Waits until an element matching `selector` has exactly `text`. */
async function textShown(p: Page, selector: string, text: string, timeout = 10_000): Promise<void> {
  await p.waitForFunction(`[...document.querySelectorAll(${JSON.stringify(selector)})].some((e) => e.textContent === ${JSON.stringify(text)})`, { timeout });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-hooks-'));
  const outDir = join(dir, 'hooks-app-build');
  const started = performance.now();
  await build({
    configFile: false,
    root: appDir,
    base: '/ui/',
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const built = performance.now();
  ui = await startUiDaemon(dir, { env: { BATON_UI_DIR: outDir } });
  client = ui.daemon.client();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('request', (req) => {
    if (isEventStream(req)) streams++;
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const link = await ui.link();
  origin = link.origin;
  await login(page, link);
  await connection(page, 'live', 10_000);
  process.stderr.write(`# hooks app built in ${Math.round(built - started)} ms; daemon, browser and sign-in ${Math.round(performance.now() - built)} ms\n`);
});

after(async () => {
  await browser?.close();
  await ui?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test("another process's lease and task appear without a reload", { timeout: 60_000 }, async (t) => {
  const url = page.url();
  await client.acquire('deploy/prod', { owner: 'agent-7', ttlMs: 60_000 });
  const leaseMs = await leaseShown(page, 'deploy/prod');
  const added = performance.now();
  await client.addTask({ title: 'write the changelog' });
  await textShown(page, '#tasks li', 'write the changelog');
  const taskMs = Math.round(performance.now() - added);
  assert.equal(page.url(), url, 'no navigation');
  assert.equal(await page.$eval('#ready', (p) => p.textContent), '1 ready');
  t.diagnostic(`shown after: lease ${leaseMs} ms, task ${taskMs} ms`);
});

test('a handler that changes every render does not resubscribe, and the newest one is called', { timeout: 60_000 }, async (t) => {
  const before = await probe();
  for (let i = 0; i < 20; i++) {
    await page.evaluate(() => (globalThis as unknown as { hooksTest: { bump(): void } }).hooksTest.bump());
  }
  await page.waitForSelector('#handler[data-version="20"]');
  await client.addTask({ title: 'after twenty renders' });
  await page.waitForFunction(() => (globalThis as unknown as { hooksTest: Probe }).hooksTest.handled.some((h) => h.type === 'task.added' && h.version === 20), { timeout: 10_000 });
  const after = await probe();
  const added = after.handled.filter((h) => h.type === 'task.added');
  assert.equal(added.at(-1)!.version, 20, 'the handler of the latest render ran');
  assert.equal(after.stats.eventSubscriptions, before.stats.eventSubscriptions, 'no resubscription');
  assert.equal(after.stats.eventHandlers, 1);
  // Each task event once, in seq order: no handler ran twice, none was lost between renders.
  const seqs = after.handled.map((h) => h.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
  t.diagnostic(`20 re-renders: subscriptions ${before.stats.eventSubscriptions} -> ${after.stats.eventSubscriptions}; task events handled ${after.handled.length}`);
});

test('components under two providers share one store and one stream; a refetch that finds nothing new re-renders nothing', { timeout: 60_000 }, async (t) => {
  // Every list fetched again, then past the next frame: what earlier tests changed has landed.
  const settle = async (): Promise<void> => {
    await act('sync');
    await new Promise((resolve) => setTimeout(resolve, 300));
  };
  await settle();
  const before = await probe();
  await client.acquire('docs/readme', { owner: 'agent-8', ttlMs: 60_000 });
  await leaseShown(page, 'docs/readme');
  await settle();
  const after = await probe();
  assert.equal(streams, 1, 'one GET /v1/events for the whole page');
  assert.equal(after.stats.streamsOpened, 1);
  assert.equal(after.stats.references, 2 + after.stats.listeners + after.stats.eventHandlers, 'two providers, every subscriber, on one store');
  assert.ok(after.renders.leases > before.renders.leases, 'the lease list re-rendered');
  assert.equal(after.renders.tasks, before.renders.tasks, 'the tasks array kept its identity through the refetch');
  assert.equal(after.renders.titles, before.renders.titles, 'shallowEqual kept the task titles');
  // A selector that builds a new array each call re-renders once per new snapshot (one per list fetched, at most): a few, not a loop.
  assert.ok(after.renders.ready - before.renders.ready <= 40, `ready re-rendered ${after.renders.ready - before.renders.ready} times`);
  t.diagnostic(
    `streams ${streams}; references ${after.stats.references} (listeners ${after.stats.listeners}); re-renders for a lease and a sync: leases ${after.renders.leases - before.renders.leases}, ` +
      `tasks ${after.renders.tasks - before.renders.tasks}, titles ${after.renders.titles - before.renders.titles}, ready ${after.renders.ready - before.renders.ready}; fetches ${JSON.stringify(after.stats.fetches)}`,
  );
});

test('paused, the view holds still while events are collected and handlers run; resumed, nothing is missing', { timeout: 60_000 }, async (t) => {
  await act('pause');
  await page.waitForSelector('#connection[data-paused="true"]');
  const seq = Number(await page.$eval('#connection', (p) => p.getAttribute('data-seq')));
  await client.acquire('while/paused', { owner: 'agent-8', ttlMs: 60_000 });
  const task = await client.addTask({ title: 'added while paused' });
  // Handlers are notifications: they run while paused.
  await page.waitForFunction((s: number) => (globalThis as unknown as { hooksTest: Probe }).hooksTest.handled.some((h) => h.type === 'task.added' && h.seq > s), { timeout: 10_000 }, seq);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(await page.$('#leases li[data-key="while/paused"]'), null, 'the view held still');
  assert.equal(Number(await page.$eval('#connection', (p) => p.getAttribute('data-seq'))), seq);
  await act('resume');
  const shownMs = await leaseShown(page, 'while/paused', 2_000);
  const { seqs } = await probe();
  assert.ok(seqs.at(-1)! >= seq + 2, 'the events that came while paused are in the timeline');
  assertNoGap(seqs);
  t.diagnostic(`task ${task.id} and a lease arrived while paused; shown ${shownMs} ms after resume; timeline ${seqs[0]}..${seqs.at(-1)} with no gap`);
});

test('with the stream blocked the page polls, says so, keeps up; unblocked it goes live again', { timeout: 60_000 }, async (t) => {
  // A second tab, signed in by the first's cookie, whose every GET /v1/events is refused from the start.
  const tab = await browser.newPage();
  let blocked = true;
  let refused = 0;
  await tab.setRequestInterception(true);
  tab.on('request', (req) => {
    if (blocked && isEventStream(req)) {
      refused++;
      void req.abort('failed');
    } else void req.continue();
  });
  try {
    await tab.goto(`${origin}/ui/`);
    const pollingMs = await connection(tab, 'polling', 15_000);
    // Polling had no stream to say where the log ends: it finds out.
    await tab.waitForSelector('#connection:not([data-seq="0"])', { timeout: 5_000 });
    await client.acquire('polled/key', { owner: 'agent-9', ttlMs: 60_000 });
    const polledMs = await leaseShown(tab, 'polled/key');
    // The event itself came by a poll (the lease alone might have come by a periodic refetch).
    await textShown(tab, '#last-event', 'lease.acquired polled/key', 5_000);
    assert.equal(await tab.$eval('#connection', (p) => p.getAttribute('data-connection')), 'polling');
    const polling = await probe(tab);
    assert.ok(polling.stats.polls > 0);

    blocked = false;
    const liveMs = await connection(tab, 'live', 15_000);
    await client.acquire('streamed/key', { owner: 'agent-9', ttlMs: 60_000 });
    const streamedMs = await leaseShown(tab, 'streamed/key');
    const live = await probe(tab);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal((await probe(tab)).stats.polls, live.stats.polls, 'no polling once live');
    t.diagnostic(
      `refused streams ${refused}; polling after ${pollingMs} ms; a lease shown by polling after ${polledMs} ms (${polling.stats.polls} polls); ` +
        `live ${liveMs} ms after unblocking; a lease shown by the stream after ${streamedMs} ms; streams opened ${live.stats.streamsOpened}`,
    );
  } finally {
    await tab.close();
  }
});

test('the daemon restarts: the page resumes with Last-Event-ID and misses nothing', { timeout: 60_000 }, async (t) => {
  // The page's reconnection is held back until the test has changed things, so those events can only come by the resumed stream.
  const held: HTTPRequest[] = [];
  let holding = true;
  const hold = (req: HTTPRequest): void => {
    if (holding && isEventStream(req)) held.push(req);
    else void req.continue();
  };
  await page.setRequestInterception(true);
  page.on('request', hold);
  try {
    const before = await probe();
    const lastSeq = before.seqs.at(-1)!;
    const started = performance.now();
    await ui.restart();
    client = ui.daemon.client();
    const restartMs = Math.round(performance.now() - started);
    await connection(page, 'reconnecting', 10_000);
    for (const deadline = Date.now() + 10_000; held.length === 0; await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() > deadline) throw new Error('the page did not try to reconnect');
    }
    await client.acquire('after/restart', { owner: 'agent-10', ttlMs: 60_000 });
    await client.addTask({ title: 'after the restart' });
    holding = false;
    const resumedFrom = held[0]!.headers()['last-event-id'];
    for (const req of held) void req.continue();
    const liveMs = await connection(page, 'live', 20_000);
    await leaseShown(page, 'after/restart');
    await page.waitForFunction((n: number) => (globalThis as unknown as { hooksTest: Probe }).hooksTest.seqs.at(-1)! >= n, { timeout: 5_000 }, lastSeq + 2);
    const after = await probe();
    const states = after.connections.slice(before.connections.length);
    assert.equal(resumedFrom, String(lastSeq), 'the reconnection named the last seq applied');
    assert.deepEqual(states, ['reconnecting', 'live']);
    assertNoGap(after.seqs);
    t.diagnostic(
      `restart took ${restartMs} ms; reconnection held (${held.length} request) while a lease and a task changed; resumed with Last-Event-ID ${resumedFrom}; ` +
        `states ${states.join(' -> ')}; live ${liveMs} ms after release; timeline ${after.seqs[0]}..${after.seqs.at(-1)} with no gap; streams opened ${after.stats.streamsOpened}`,
    );
  } finally {
    page.off('request', hold);
    await page.setRequestInterception(false);
  }
});

test('the page reported no errors', () => {
  assert.deepEqual(pageErrors, []);
});
