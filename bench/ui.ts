// npm run bench -- ui: the dashboard's weight on first load, and how it keeps up
// with a busy store, in a real headless Chromium (support/browser.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'puppeteer-core';
import type { BatonEvent } from '../src/coordinator.ts';
import { launchBrowser, login, startAgent, startUiDaemon, watchProtocolState } from '../support/browser.ts';
import { root } from '../support/paths.ts';
import { benchNumber } from './procs.ts';
import type { SectionContext } from './postgres.ts';

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

// --- (a) JavaScript shipped on first load ----------------------------------------------

interface Shipped {
  files: Array<{ path: string; bytes: number; gzipped: number }>;
  gzipped: number;
  css: number;
}

/** The scripts index.html loads at once (script src and modulepreload), each gzipped as a server would send it. */
export function shippedOnFirstLoad(dir: string): Shipped {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const attr = (tag: string, name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, 'i').exec(tag)?.[1];
  const scripts = new Set<string>();
  const styles = new Set<string>();
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    if (/^<script/i.test(tag)) {
      const src = attr(tag, 'src');
      if (src !== undefined) scripts.add(src);
    } else {
      const rel = attr(tag, 'rel')?.toLowerCase();
      const href = attr(tag, 'href');
      if (href === undefined) continue;
      if (rel === 'modulepreload') scripts.add(href);
      if (rel === 'stylesheet') styles.add(href);
    }
  }
  const file = (url: string): string => join(dir, url.replace(/^\/ui\//, '').replace(/^\.?\//, ''));
  const files = [...scripts].map((url) => {
    const body = readFileSync(file(url));
    return { path: url, bytes: body.length, gzipped: gzipSync(body).length };
  });
  const css = [...styles].reduce((sum, url) => sum + gzipSync(readFileSync(file(url))).length, 0);
  return { files, gzipped: files.reduce((sum, f) => sum + f.gzipped, 0), css };
}

/**
 * The floor any React dashboard pays: React + ReactDOM's production builds and nothing else,
 * bundled and minified by the same Vite as the dashboard (one createRoot().render()), gzipped.
 */
export async function reactFloor(work: string): Promise<{ bytes: number; gzipped: number; asPublished: number }> {
  const { build } = await import('vite');
  const out = mkdtempSync(join(work, 'react-floor-'));
  const entry = "import { createElement } from 'react'; import { createRoot } from 'react-dom/client'; createRoot(document.body).render(createElement('p', null, 'floor'));";
  await build({
    configFile: false,
    root,
    logLevel: 'silent',
    mode: 'production',
    plugins: [{ name: 'react-floor', resolveId: (id: string) => (id === 'react-floor' ? '\0react-floor' : undefined), load: (id: string) => (id === '\0react-floor' ? entry : undefined) }],
    build: { outDir: out, emptyOutDir: true, modulePreload: { polyfill: false }, rollupOptions: { input: 'react-floor' } },
  });
  let bytes = 0;
  let gzipped = 0;
  for (const name of readdirSync(join(out, 'assets'))) {
    if (!name.endsWith('.js')) continue;
    const body = readFileSync(join(out, 'assets', name));
    bytes += body.length;
    gzipped += gzipSync(body).length;
  }
  // The same code as npm publishes it (React 19 ships its production builds unminified), for orientation.
  const published = ['react/cjs/react.production.js', 'react/cjs/react-jsx-runtime.production.js', 'react-dom/cjs/react-dom.production.js', 'react-dom/cjs/react-dom-client.production.js', 'scheduler/cjs/scheduler.production.js'];
  const asPublished = gzipSync(Buffer.concat(published.map((p) => readFileSync(join(root, 'node_modules', p))))).length;
  rmSync(out, { recursive: true, force: true });
  return { bytes, gzipped, asPublished };
}

/** bull-board's built UI, when its package happens to be installed (it is not a dependency). */
function bullBoard(): Shipped | undefined {
  const dist = join(root, 'node_modules/@bull-board/ui/dist');
  return existsSync(join(dist, 'index.html')) ? shippedOnFirstLoad(dist) : undefined;
}

// --- (b) Under load ----------------------------------------------------------------------

const LONG_TASK_SETUP = `
  globalThis.__longTasks = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) globalThis.__longTasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch (error) { globalThis.__longTasksError = String(error); }
`;

/** Sum of long-task time (clipped to the window) over the window's length, in [0, 1]. */
async function longTaskShare(page: Page, from: number, to: number): Promise<{ share: number; count: number; longest: number }> {
  const tasks = await page.evaluate(() => (globalThis as unknown as { __longTasks: Array<[number, number]> }).__longTasks);
  let busy = 0;
  let count = 0;
  let longest = 0;
  for (const [start, duration] of tasks) {
    const overlap = Math.min(to, start + duration) - Math.max(from, start);
    if (overlap <= 0) continue;
    busy += overlap;
    count++;
    longest = Math.max(longest, duration);
  }
  return { share: busy / (to - from), count, longest };
}

export interface LoadResult {
  view: string;
  rate: number;
  share: number;
  count: number;
  longest: number;
  seen: number;
  logged: number;
  dropped: number;
  outOfOrder: number;
}

export async function uiSection(ctx: SectionContext): Promise<void> {
  const { check } = ctx;
  console.log('\n15. Dashboard in headless Chromium (built first, as the package ships it: vite build into dist/ui, which the daemon serves)');
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(root, 'ui/vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });

  const shipped = shippedOnFirstLoad(join(root, 'dist/ui'));
  const floor = await reactFloor(ctx.work);
  const bull = bullBoard();
  console.log(`   JavaScript on first load, gzipped: ${kb(shipped.gzipped)} in ${shipped.files.length} file${shipped.files.length === 1 ? '' : 's'} (${shipped.files.map((f) => `${f.path.replace(/^.*\//, '')} ${kb(f.bytes)} → ${kb(f.gzipped)}`).join(', ')}); CSS ${kb(shipped.css)}`);
  console.log(`   anchor, React + ReactDOM alone (the floor of any React dashboard; minified by the same Vite): ${kb(floor.gzipped)} (${kb(floor.bytes)} minified; ${kb(floor.asPublished)} as npm publishes them): the dashboard is ${(shipped.gzipped / floor.gzipped).toFixed(2)}x the floor`);
  console.log(bull ? `   bull-board's built UI (installed): ${kb(bull.gzipped)}: the dashboard is ${(shipped.gzipped / bull.gzipped).toFixed(2)}x it` : '   (bull-board\'s UI is not installed here, so not measured: it is no dependency of baton)');
  check('dashboard JavaScript on first load <= 150 KB gzipped', shipped.gzipped <= 150 * 1024, kb(shipped.gzipped));

  const RATE = benchNumber('BENCH_UI_RATE', 1000, 1);
  const SECONDS = benchNumber('BENCH_UI_SECONDS', 10, 1);
  const TASKS = benchNumber('BENCH_UI_TASKS', 10_000, 1);
  const results = await underLoad(ctx.work, { rate: RATE, seconds: SECONDS, tasks: TASKS, trials: ctx.trials });
  console.log(`   under load (${TASKS} tasks waiting, 1,000 leases, 100 agents; another process claims and completes tasks at ${RATE} events/s for ${SECONDS} s; ${results.length} runs, views alternating):`);
  for (const r of results) {
    console.log(`     ${r.view}: ${r.rate.toFixed(0)} events/s measured; long tasks ${(r.share * 100).toFixed(1)}% of wall time (${r.count}, longest ${r.longest.toFixed(0)} ms); the page's events (the hooks' state) ${r.seen} of ${r.logged} logged, ${r.dropped} dropped, ${r.outOfOrder} out of order`);
  }
  const dropped = results.reduce((sum, r) => sum + r.dropped, 0);
  const outOfOrder = results.reduce((sum, r) => sum + r.outOfOrder, 0);
  // Each view judged on its own: the list that changes with every event (the timeline) is the harder one.
  for (const view of [...new Set(results.map((r) => r.view))]) {
    const runs = results.filter((r) => r.view === view);
    const share = median(runs.map((r) => r.share));
    const rate = median(runs.map((r) => r.rate));
    console.log(`   ${view}, median of ${runs.length}: long tasks ${(share * 100).toFixed(1)}% of wall time at ${rate.toFixed(0)} events/s`);
    check(`dashboard ${view} view under 1,000 events/s with 10,000 tasks: long tasks < 10% of wall time`, share < 0.1 && rate >= 0.9 * RATE, `median ${(share * 100).toFixed(1)}% at ${rate.toFixed(0)} events/s`);
  }
  check('dashboard under load: no event dropped or out of order', dropped === 0 && outOfOrder === 0, `${dropped} dropped, ${outOfOrder} out of order`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function underLoad(work: string, o: { rate: number; seconds: number; tasks: number; trials: number }): Promise<LoadResult[]> {
  const dir = join(work, 'ui');
  mkdirSync(dir, { recursive: true });
  // As users run it: without the test suite's answer checking.
  const ui = await startUiDaemon(dir, { env: { BATON_CHECK_RESPONSES: '' } });
  const browser = await launchBrowser();
  const agent = await startAgent(ui.daemon.record.socket!, { BATON_CHECK_RESPONSES: '' });
  const results: LoadResult[] = [];
  try {
    const c = ui.daemon.client();
    for (let i = 0; i < o.tasks; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, o.tasks - i) }, (_, k) => ({ queue: 'waiting', title: `job ${i + k}` })));
    for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => c.acquire(`bench/lease/${i + k}`, { owner: `agent-${(i + k) % 100}`, ttlMs: 3_600_000, timeoutMs: 0 })));
    for (let i = 0; i < 100; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => c.register({ name: `agent-${i + k}`, ttlMs: 3_600_000, autoHeartbeat: false })));
    const views = ['timeline', 'queue'];
    for (let t = 0; t < o.trials * views.length; t++) {
      const view = views[t % views.length]!;
      // The flood's own tasks: claimed and completed, two events each; the waiting 10,000 stay.
      const floodTasks = Math.ceil((o.rate * o.seconds) / 2) + 1000;
      for (let i = 0; i < floodTasks; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, floodTasks - i) }, (_, k) => ({ queue: `flood-${t}`, title: `flood ${i + k}` })));
      const page = await browser.newPage();
      try {
        await page.evaluateOnNewDocument(LONG_TASK_SETUP);
        const watch = await watchProtocolState(page);
        const link = await ui.link();
        await login(page, link);
        await page.goto(`${link.origin}/ui/?view=${view}`, { waitUntil: 'load' });
        await watch.ready();
        // Settle: the first load's own work is not what is measured.
        await new Promise((r) => setTimeout(r, 1000));
        const before = await lastSeq(c);
        await watch.start();
        const from = await page.evaluate(() => performance.now());
        const flood = await agent.flood({ rate: o.rate, ms: o.seconds * 1000, queue: `flood-${t}` });
        const to = await page.evaluate(() => performance.now());
        const after = await lastSeq(c);
        // Let the page catch up with what was logged before comparing.
        await watch.until(after, 15_000);
        const seen = await watch.stop();
        const long = await longTaskShare(page, from, to);
        const logged = await loggedSeqs(c, before, after);
        const seenSet = new Set(seen);
        let outOfOrder = 0;
        for (let i = 1; i < seen.length; i++) if (seen[i]! <= seen[i - 1]!) outOfOrder++;
        const dropped = logged.filter((s) => !seenSet.has(s)).length;
        results.push({ view, rate: (flood.events / flood.ms) * 1000, ...long, seen: seen.filter((s) => s > before && s <= after).length, logged: logged.length, dropped, outOfOrder });
      } finally {
        await page.close();
      }
    }
  } finally {
    await agent.close();
    await browser.close();
    await ui.stop();
  }
  return results;
}

/** The log's latest seq, as a marker event's (it is part of what the page must show too). */
async function lastSeq(c: { publish(e: { type: string }): Promise<BatonEvent> }): Promise<number> {
  return (await c.publish({ type: 'bench.mark' })).seq;
}

async function loggedSeqs(c: { events(q: { after: number; limit: number }): Promise<BatonEvent[]> }, after: number, upTo: number): Promise<number[]> {
  const out: number[] = [];
  let cursor = after;
  while (cursor < upTo) {
    const page = await c.events({ after: cursor, limit: 1000 });
    if (page.length === 0) break;
    for (const e of page) if (e.seq <= upTo) out.push(e.seq);
    cursor = page[page.length - 1]!.seq;
  }
  return out;
}
