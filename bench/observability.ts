// The cost of the daemon's observability (npm run bench -- daemon, section
// 17): lease acquire + release through a daemon with its metrics and access
// log on (the defaults; GET /metrics scraped every second meanwhile) against
// the same build with them off (--metrics off --access-log off), both in this
// run, their trials alternating, with a third daemon (off too) as the control
// that shows how far two identical daemons drift apart here. Request ids are made either way (the answer
// always carries one); no tracer provider is registered on either side.
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startDaemon, type RunningDaemon } from '../support/daemon.ts';
import { load, type Load } from './daemon.ts';
import type { SectionContext } from './postgres.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

async function daemonFor(work: string, name: string, args: string[]): Promise<RunningDaemon> {
  const project = join(work, name);
  mkdirSync(project, { recursive: true });
  return startDaemon(join(project, '.baton'), { cwd: project, args, env: { BATON_CHECK_RESPONSES: '' } });
}

/** GET /metrics once; resolves to the size of the text (and fails on anything but 200). */
function scrape(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics', headers: { host: 'baton' } }, async (res) => {
      let size = 0;
      for await (const chunk of res) size += (chunk as Buffer).length;
      if (res.statusCode === 200) resolve(size);
      else reject(new Error(`GET /metrics answered ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `measure` while GET /metrics is scraped every second; returns the load and how many scrapes were made. */
async function whileScraped(socketPath: string, measure: () => Promise<Load>): Promise<{ load: Load; scrapes: number }> {
  let scrapes = 0;
  let failure: unknown;
  const timer = setInterval(() => {
    scrape(socketPath).then(
      () => scrapes++,
      (error: unknown) => (failure ??= error),
    );
  }, 1000);
  try {
    const result = await measure();
    if (failure !== undefined) throw failure;
    return { load: result, scrapes };
  } finally {
    clearInterval(timer);
  }
}

export async function observabilitySection(ctx: SectionContext): Promise<void> {
  const { check, work, ms } = ctx;
  // The cost judged is small beside this machine's drift: at least 5 rounds, each round's ratio taken, the median judged.
  const trials = Math.max(5, ctx.trials);
  console.log('\n17. Daemon observability: lease acquire + release with metrics and the access log on (the defaults; /metrics scraped every second) / the same build with both off');
  console.log(`   two daemons of this build (on, off), and a third with it off as a control, one load process each turn (the generator of section 7), ${trials} rounds, the order alternating; the median of the rounds' on/off ratios is judged`);
  const on = await daemonFor(work, 'observed', []);
  const off = await daemonFor(work, 'unobserved', ['--metrics', 'off', '--access-log', 'off']);
  // The floor: a second daemon with it off, measured in every round too. Its ratio to the first is what
  // this machine's drift alone makes of two identical daemons; a cost smaller than that cannot be told here.
  const control = await daemonFor(work, 'control', ['--metrics', 'off', '--access-log', 'off']);
  try {
    for (const clients of [1, 32]) {
      const opts = { concurrency: clients, procs: 1, ms };
      const ons: Load[] = [];
      const offs: Load[] = [];
      const controls: Load[] = [];
      let scrapes = 0;
      for (let i = 0; i < trials; i++) {
        const runOn = async (): Promise<void> => {
          const r = await whileScraped(on.record.socket!, () => load(on.record.socket!, 'lease', { ...opts, tag: `obs-on-${clients}-${i}` }));
          ons.push(r.load);
          scrapes += r.scrapes;
        };
        const runOff = async (): Promise<void> => void offs.push(await load(off.record.socket!, 'lease', { ...opts, tag: `obs-off-${clients}-${i}` }));
        const runControl = async (): Promise<void> => void controls.push(await load(control.record.socket!, 'lease', { ...opts, tag: `obs-control-${clients}-${i}` }));
        const turns = [runOn, runOff, runControl];
        for (const turn of i % 2 === 0 ? turns : turns.reverse()) await turn();
        const a = ons.at(-1)!;
        const b = offs.at(-1)!;
        const c = controls.at(-1)!;
        console.log(`   ${clients} client${clients === 1 ? '' : 's'}, round ${i + 1}: on ${fmt(a.perSec)}/s (p99 ${a.p99.toFixed(3)} ms), off ${fmt(b.perSec)}/s (p99 ${b.p99.toFixed(3)} ms): ${((a.perSec / b.perSec) * 100).toFixed(0)}%, ${(a.p99 / b.p99).toFixed(2)}x; control ${fmt(c.perSec)}/s (p99 ${c.p99.toFixed(3)} ms): ${((c.perSec / b.perSec) * 100).toFixed(0)}%, ${(c.p99 / b.p99).toFixed(2)}x`);
      }
      const rateOn = median(ons.map((l) => l.perSec));
      const rateOff = median(offs.map((l) => l.perSec));
      const p99On = median(ons.map((l) => l.p99));
      const p99Off = median(offs.map((l) => l.p99));
      const rate = median(ons.map((l, i) => l.perSec / offs[i]!.perSec));
      const tail = median(ons.map((l, i) => l.p99 / offs[i]!.p99));
      console.log(
        `   ${clients} client${clients === 1 ? '' : 's'}: medians on ${fmt(rateOn)}/s, p50 ${median(ons.map((l) => l.p50)).toFixed(3)}, p99 ${p99On.toFixed(3)} ms; off ${fmt(rateOff)}/s, p50 ${median(offs.map((l) => l.p50)).toFixed(3)}, p99 ${p99Off.toFixed(3)} ms; median of the rounds' on/off: ${(rate * 100).toFixed(0)}% of the rate, ${tail.toFixed(2)}x the p99 (${scrapes} scrapes)`,
      );
      const floorRate = median(controls.map((l, i) => l.perSec / offs[i]!.perSec));
      const floorTail = median(controls.map((l, i) => l.p99 / offs[i]!.p99));
      console.log(`   ${clients} client${clients === 1 ? '' : 's'}: the floor, two daemons both off (control/off): ${(floorRate * 100).toFixed(0)}% of the rate, ${floorTail.toFixed(2)}x the p99`);
      check(`observability on, ${clients} client${clients === 1 ? '' : 's'}: >= 90% of the requests/s with it off`, rate >= 0.9, `median of ${trials} rounds ${(rate * 100).toFixed(1)}%`);
      check(`observability on, ${clients} client${clients === 1 ? '' : 's'}: p99 <= 1.1x with it off`, tail <= 1.1, `median of ${trials} rounds ${tail.toFixed(2)}x`);
    }
  } finally {
    await on.stop();
    await off.stop();
    await control.stop();
  }
}
