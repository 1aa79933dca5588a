// A real headless Chromium for the dashboard's tests and benchmark: the one inside the
// @sparticuz/chromium npm package (so `npm install` brings it; nothing is downloaded),
// driven by puppeteer-core. Also an axe-core scan and a dashboard session on a real daemon.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { withLock } from '../src/files/lock/lock.ts';
import { startDaemon, type RunningDaemon } from './daemon.ts';
import { cli, root } from './paths.ts';

const run = promisify(execFile);

// Our own flags, never chromium.args: those carry --disable-web-security and
// --allow-running-insecure-content, which would void every cross-origin test.
const ARGS = ['--no-sandbox', '--disable-setuid-sandbox', '--headless=shell', '--no-zygote'];

/**
 * The binary's path. The package inflates itself into the temp directory on first use and
 * takes whatever it finds there as done, so a first use from two test processes at once
 * could run a half-written file: the extraction runs under a baton file lock, and a marker
 * written after it completes tells a finished extraction from one a killed process left.
 */
async function executablePath(): Promise<string> {
  const marker = join(tmpdir(), 'chromium.baton-extracted');
  const binary = join(tmpdir(), 'chromium');
  const stamp = String(chromium.graphics) + ' ' + readPackageVersion();
  if (existsSync(binary) && existsSync(marker) && readFileSync(marker, 'utf8') === stamp) return binary;
  return withLock(
    join(tmpdir(), 'chromium.baton-extract'),
    async () => {
      if (existsSync(binary) && existsSync(marker) && readFileSync(marker, 'utf8') === stamp) return binary;
      // Whatever is there was not finished under this lock (or is another version): start again.
      for (const leftover of [binary, join(tmpdir(), 'fonts'), join(tmpdir(), 'libGLESv2.so')]) rmSync(leftover, { recursive: true, force: true });
      const path = await chromium.executablePath();
      writeFileSync(marker, stamp);
      return path;
    },
    { timeout: 180_000 },
  );
}

function readPackageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules/@sparticuz/chromium/package.json'), 'utf8')) as { version: string }).version;
}

export interface LaunchOptions {
  /** Extra command-line flags. */
  args?: string[];
  /** Default viewport; 1280x800 unless given. */
  viewport?: { width: number; height: number };
}

/** Launches headless Chromium; close it with `browser.close()`. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const launch = async (): Promise<Browser> =>
    puppeteer.launch({
      executablePath: await executablePath(),
      args: [...ARGS, ...(options.args ?? [])],
      headless: 'shell',
      defaultViewport: options.viewport ?? { width: 1280, height: 800 },
      // The package's fonts, as it sets FONTCONFIG_PATH for itself on Lambda.
      env: { ...process.env, FONTCONFIG_PATH: process.env.FONTCONFIG_PATH ?? join(tmpdir(), 'fonts'), HOME: process.env.HOME ?? tmpdir() },
      protocolTimeout: 60_000,
    });
  try {
    return await launch();
  } catch (error) {
    // ETXTBSY / ENOENT: the binary was being written or replaced at that instant. Once more.
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const text = String((error as Error).message);
    if (!['ETXTBSY', 'ENOENT'].includes(code) && !/ETXTBSY|ENOENT/.test(text)) throw error;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return launch();
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string; html: string }>;
}

const axeSource = (): string => readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and returns the violations. The script is
 * injected by DevTools evaluation, which the page's Content-Security-Policy does not govern.
 */
export async function axeScan(page: Page, context: string = 'body'): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource());
  return page.evaluate(async (selector: string) => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(selector, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary, html: n.html })) }));
  }, context);
}

/** One line per violation and node, for an assertion's message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}\n      ${n.html.slice(0, 200)}`).join('\n')}`).join('\n');
}

export interface UiLink {
  url: string;
  origin: string;
  readOnly: boolean;
}

/** A one-time login link from `baton ui --no-open --json` in `cwd` (which starts the daemon if none runs). */
export async function uiLink(cwd: string, stateDir: string, options: { readOnly?: boolean; env?: Record<string, string> } = {}): Promise<UiLink> {
  const args = [cli, 'ui', '--no-open', '--json', '--state-dir', stateDir, ...(options.readOnly ? ['--read-only'] : [])];
  const { stdout } = await run(process.execPath, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', ...options.env }, timeout: 30_000 });
  return JSON.parse(stdout) as UiLink;
}

/** Opens a fresh login link in `page` (the cookie lands in the page's browser context) and waits for the dashboard. */
export async function login(page: Page, link: UiLink): Promise<void> {
  const response = await page.goto(link.url, { waitUntil: 'load' });
  if (response === null || !response.ok()) throw new Error(`login answered ${response?.status()} at ${page.url()}`);
}

export interface UiDaemon {
  daemon: RunningDaemon;
  /** The project directory (and cwd of the daemon). */
  dir: string;
  stateDir: string;
  /** A fresh one-time login link. */
  link(options?: { readOnly?: boolean }): Promise<UiLink>;
  /** Stops the daemon and starts it again on the same state directory; returns the new one. */
  restart(): Promise<RunningDaemon>;
  stop(): Promise<void>;
}

/** A real daemon (`baton serve`) in `dir` with its state in `dir/.baton`, and login links to its dashboard. */
export async function startUiDaemon(dir: string, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<UiDaemon> {
  const stateDir = join(dir, '.baton');
  const begin = (): Promise<RunningDaemon> => startDaemon(stateDir, { cwd: dir, ...(options.env ? { env: options.env } : {}), ...(options.args ? { args: options.args } : {}) });
  let daemon = await begin();
  const ui: UiDaemon = {
    get daemon() {
      return daemon;
    },
    dir,
    stateDir,
    link: (o = {}) => uiLink(dir, stateDir, o),
    async restart() {
      await daemon.stop();
      daemon = await begin();
      return daemon;
    },
    async stop() {
      await daemon.stop();
    },
  };
  return ui;
}

export interface Agent {
  /** Any Coordinator method, run in the agent's process. */
  call<R = unknown>(method: string, ...args: unknown[]): Promise<R>;
  /** withLease on `key` in the agent's process, renewing; `lost` resolves with the code its renew failed with. */
  hold(key: string, options?: { owner?: string; ttlMs?: number }): Promise<{ lease: { key: string; token: number }; lost: Promise<{ code: string; message: string }> }>;
  /** Claims and completes tasks of `queue` at about `rate` events/s for `ms`. */
  flood(spec: { rate: number; ms: number; queue: string }): Promise<{ events: number; ms: number }>;
  close(): Promise<void>;
}

const agentScript = join(root, 'support/workers/ui-agent.ts');

/** Another process, a client of the daemon at `socketPath` (support/workers/ui-agent.ts). */
export async function startAgent(socketPath: string, env: Record<string, string> = { BATON_CHECK_RESPONSES: '1' }): Promise<Agent> {
  const child = spawn(process.execPath, [agentScript, socketPath], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const lost = new Map<string, (v: { code: string; message: string }) => void>();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`ui-agent exited: ${stderr}`));
    pending.clear();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { ready?: true; id?: number; ok?: boolean; result?: unknown; code?: string; message?: string; lost?: string };
    if (m.ready) return ready();
    if (m.lost !== undefined) return lost.get(m.lost)?.({ code: m.code!, message: m.message! });
    const p = pending.get(m.id!);
    pending.delete(m.id!);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(Object.assign(new Error(`${m.code}: ${m.message}`), { code: m.code }));
  });
  await Promise.race([isReady, exited.then(() => Promise.reject(new Error(`ui-agent exited before ready: ${stderr}`)))]);
  let next = 0;
  const send = <R>(cmd: object): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
  return {
    call: <R>(method: string, ...args: unknown[]) => send<R>({ call: method, args }),
    async hold(key, options = {}) {
      const gone = new Promise<{ code: string; message: string }>((resolve) => lost.set(key, resolve));
      const lease = await send<{ key: string; token: number }>({ hold: key, ...options });
      return { lease, lost: gone };
    },
    flood: (spec) => send({ flood: spec }),
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Finds the page's baton/react store (the value of its BatonProvider) by walking React's
 * fiber tree from the root container. Runs in the page; returns null until React has mounted.
 */
const FIND_STORE = `(() => {
  if (globalThis.__batonStore) return globalThis.__batonStore;
  const containers = [document.getElementById('root'), ...document.body.children];
  for (const el of containers) {
    if (!el) continue;
    const key = Object.keys(el).find((k) => k.startsWith('__reactContainer$'));
    if (!key) continue;
    const start = el[key].stateNode?.current ?? el[key];
    const stack = [start];
    while (stack.length > 0) {
      const f = stack.pop();
      const v = f.memoizedProps?.value;
      if (v && typeof v === 'object' && typeof v.getSnapshot === 'function' && typeof v.subscribe === 'function' && typeof v.onEvent === 'function') {
        globalThis.__batonStore = v;
        return v;
      }
      if (f.sibling) stack.push(f.sibling);
      if (f.child) stack.push(f.child);
    }
  }
  return null;
})()`;

/** The page's ProtocolState, or the part a function of it picks (the function runs in the page). */
export async function protocolState<T>(page: Page, pick: string = 's => s'): Promise<T> {
  return page.evaluate(`(() => { const store = ${FIND_STORE}; if (store === null) throw new Error('no baton/react store on this page'); return (${pick})(store.getSnapshot()); })()`) as Promise<T>;
}

export interface StateWatch {
  /** Waits until React has mounted the store. */
  ready(timeoutMs?: number): Promise<void>;
  /** From now on, records each event seq as the snapshot first shows it. */
  start(): Promise<void>;
  /** Waits until the snapshot's seq is at least `seq`. */
  until(seq: number, timeoutMs?: number): Promise<void>;
  /** Stops recording; the seqs seen, in the order they appeared (snapshots out of order count too). */
  stop(): Promise<number[]>;
}

/**
 * Records the event seqs the page's hooks apply: on each of the store's notifications (once a
 * frame at most), the events past the last one seen are appended, in the snapshot's order.
 * An event shown out of order appears as a seq not above its predecessor in the result.
 */
export function watchProtocolState(page: Page): StateWatch {
  return {
    async ready(timeoutMs = 15_000) {
      await page.waitForFunction(`${FIND_STORE} !== null`, { timeout: timeoutMs, polling: 100 });
    },
    async start() {
      await page.evaluate(`(() => {
        const store = ${FIND_STORE};
        const w = (globalThis.__batonWatch = { seqs: [], last: store.getSnapshot().seq, unsubscribe: null });
        const record = () => {
          const events = store.getSnapshot().events;
          let i = events.length;
          while (i > 0 && events[i - 1].seq > w.last) i--;
          for (; i < events.length; i++) w.seqs.push(events[i].seq);
          if (w.seqs.length > 0) w.last = Math.max(w.last, w.seqs[w.seqs.length - 1]);
        };
        w.unsubscribe = store.subscribe(record);
        record();
      })()`);
    },
    async until(seq, timeoutMs = 15_000) {
      await page.waitForFunction(`${FIND_STORE}.getSnapshot().seq >= ${Number(seq)}`, { timeout: timeoutMs, polling: 100 });
    },
    async stop() {
      return page.evaluate(`(() => {
        const w = globalThis.__batonWatch;
        w.unsubscribe?.();
        const events = globalThis.__batonStore.getSnapshot().events;
        // A last look: the whole snapshot must be in ascending order too.
        for (let i = 1; i < events.length; i++) if (events[i].seq <= events[i - 1].seq) w.seqs.push(events[i].seq);
        return w.seqs;
      })()`) as Promise<number[]>;
    },
  };
}
