// npm run bench -- projects: claim + complete and lease acquire + release with
// issue 34's projects and quotas on, against the previous release in the same
// run (support/previous-release.ts), embedded on a SQLite file and through a daemon
// of each version. Every figure comes from child processes; the versions
// alternate which goes first, trial by trial, and the median of the per-trial
// ratios is judged (this machine's speed drifts too much for one absolute time).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunningDaemon } from '../support/daemon.ts';
import { startBatonDaemon } from './daemon.ts';
import type { SectionContext } from './postgres.ts';
import { materialise, PREVIOUS_RELEASE } from '../support/previous-release.ts';
import { benchNumber, worker } from './procs.ts';

const PROCS = 2; // a worker per core
const TARGET = 0.9;
const here = new URL('.', import.meta.url).pathname;
const repo = join(here, '..');
// Enough that two claimers never drain the queue within one timed run.
const TASKS = benchNumber('BENCH_RELEASE_TASKS', 20_000, 1);
const WARM_MS = benchNumber('BENCH_RELEASE_WARM_MS', 300, 0);
// The new side's daemon clients talk to this project (issue 34: the client option `project`).
const PROJECT = 'bench';
// Each round gives each version `ms` of measuring, in this many alternating slices.
const SLICES = benchNumber('BENCH_RELEASE_SLICES', 8, 1);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

type Version = 'previous' | 'new';
type Where = 'embedded' | 'daemon';
type Mode = 'claim' | 'lease';

interface Side {
  root: string;
  project: string | undefined;
}

/** Adds the tasks (and, on the new side, the quotas); what the setup found. */
async function setup(side: Side, target: string): Promise<{ quotas: string; projects: string }> {
  const w = worker('release-compare.ts', [side.root, target, side.project ?? '-', 'setup', '0', String(TASKS)]);
  return JSON.parse((await w.line('setup ')).slice('setup '.length)) as { quotas: string; projects: string };
}

/** One version's warm processes: each `slice` runs them together for `ms` and sums their pairs per second. */
interface Pool {
  slice(ms: number): Promise<{ perSec: number; drained: boolean }>;
  end(): Promise<void>;
}

async function pool(side: Side, target: string, mode: Mode): Promise<Pool> {
  const procs = Array.from({ length: PROCS }, () => {
    const child = spawn(process.execPath, [join(here, 'workers', 'release-compare.ts'), side.root, target, side.project ?? '-', mode, String(WARM_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const next = async (prefix: string): Promise<string> => {
      const { value, done } = await lines.next();
      if (done || !(value as string).startsWith(prefix)) throw new Error(`bench worker release-compare.ts ${mode} ${target}: expected '${prefix}', got ${done ? `its exit (${child.exitCode})` : JSON.stringify(value)}`);
      return value as string;
    };
    return { child, next, exited };
  });
  try {
    await Promise.all(procs.map((p) => p.next('ready')));
  } catch (error) {
    for (const p of procs) p.child.kill();
    throw error;
  }
  return {
    async slice(ms) {
      for (const p of procs) p.child.stdin!.write(`go ${ms}\n`);
      const results = await Promise.all(procs.map(async (p) => (await p.next('result ')).split(' ').slice(1).map(Number) as [number, number, number]));
      return { perSec: results.reduce((s, [n, el]) => s + (el > 0 ? (n / el) * 1000 : 0), 0), drained: results.some(([, , d]) => d === 1) };
    },
    async end() {
      for (const p of procs) p.child.stdin!.end('end\n');
      await Promise.all(procs.map((p) => p.exited));
    },
  };
}

export async function projectsSection(ctx: SectionContext): Promise<void> {
  const { check, work, trials, ms } = ctx;
  const commit = PREVIOUS_RELEASE.slice(0, 7);
  console.log(`\n19. Projects and quotas on, against the previous release (${commit}) in the same run: pairs/s of ${PROCS} processes per version`);
  console.log(`   ${trials} trials, each on fresh stores and daemons; in a trial each version measures for ${ms} ms in ${SLICES} slices, the versions alternating (ABBA, both kept warm); a trial's ratio new/previous is the median of its neighbouring slices' ratios; judged: the median of the trials' ratios`);
  const dir = join(work, 'release');
  mkdirSync(dir, { recursive: true });
  const previous = materialise(dir);
  if ('skip' in previous) {
    console.log(`   skipped: ${previous.skip}`);
    return;
  }
  const sides: Record<Version, Side> = { previous: { root: previous.root, project: undefined }, new: { root: repo, project: PROJECT } };
  console.log(`   previous release: git archive ${commit} src package.json into ${previous.root}, node_modules linked; each version's own \`baton serve\` for the daemon rows`);
  const rows = new Map<string, Array<{ previous: number; new: number; ratio: number }>>();
  const add = (row: string, t: { previous: number; new: number; ratio: number }): void => void rows.set(row, [...(rows.get(row) ?? []), t]);
  const found = new Map<string, Set<string>>();
  const note = (what: string, value: string): void => void found.set(what, (found.get(what) ?? new Set()).add(value));
  let drained = false;
  for (let trial = 0; trial < trials; trial++) {
    const order: Version[] = trial % 2 === 0 ? ['previous', 'new'] : ['new', 'previous'];
    const daemons: Partial<Record<Version, RunningDaemon>> = {};
    const inProject: Partial<Record<Version, string>> = {};
    try {
      for (const v of order) daemons[v] = await startBatonDaemon(dir, `${v}-${trial}`, join(sides[v].root, 'src/cli/main.ts'));
      const targets = (v: Version): Record<Where, string> => ({ embedded: `sqlite:${join(dir, `${v}-${trial}.db`)}`, daemon: `socket:${daemons[v]!.record.socket!}` });
      for (const where of ['embedded', 'daemon'] as const) {
        for (const v of order) {
          const s = await setup(sides[v], targets(v)[where]);
          if (v === 'new') {
            note(`quotas ${where}`, s.quotas);
            if (where === 'daemon') note('projects', s.projects);
          }
          // Where the project could not be used, the setup fell back to the home project: the workers follow.
          if (where === 'daemon') inProject[v] = s.projects.startsWith('on') ? sides[v].project : undefined;
        }
        for (const mode of ['claim', 'lease'] as const) {
          const side = (v: Version): Side => ({ root: sides[v].root, project: where === 'daemon' ? inProject[v] : undefined });
          const pools = { previous: await pool(side('previous'), targets('previous')[where], mode), new: await pool(side('new'), targets('new')[where], mode) };
          const slices: Record<Version, number[]> = { previous: [], new: [] };
          try {
            // ABBA: a drift in the machine's speed within the trial weighs on both alike.
            for (let i = 0; i < SLICES; i++) {
              for (const v of i % 2 === 0 ? order : [...order].reverse()) {
                const r = await pools[v].slice(ms / SLICES);
                drained ||= r.drained;
                slices[v].push(r.perSec);
              }
            }
          } finally {
            await pools.previous.end();
            await pools.new.end();
          }
          // The trial's ratio: the median over its neighbouring pairs of slices, so a burst of the
          // machine's other work during one slice does not decide it.
          add(`${where} ${mode}`, { previous: median(slices.previous), new: median(slices.new), ratio: median(slices.new.map((x, i) => x / slices.previous[i]!)) });
        }
      }
    } finally {
      for (const v of order) await daemons[v]?.stop();
    }
  }
  const said = (what: string): string => [...(found.get(what) ?? ['?'])].join(' / ');
  const projects = said('projects');
  const short = (state: string): string => (state.startsWith('on') ? 'on' : state.startsWith('off') ? 'off' : 'not available');
  console.log(`   new side: quotas embedded ${said('quotas embedded')}; quotas through the daemon ${said('quotas daemon')}`);
  console.log(`   new side: projects ${projects === 'on' ? `on (daemon clients in project '${PROJECT}', checked apart from the home project)` : projects}; embedded rows use the home project`);
  if (drained) console.log(`   note: a claimer emptied its queue of ${TASKS} tasks before its time was up (BENCH_RELEASE_TASKS): its rate is over the time it had tasks`);
  const labels: Record<string, string> = {
    'embedded claim': 'embedded (SQLite file), claim 1 + complete',
    'embedded lease': 'embedded (SQLite file), lease acquire + release (session-bound)',
    'daemon claim': 'through the daemon, claim 1 + complete',
    'daemon lease': 'through the daemon, lease acquire + release (session-bound)',
  };
  for (const [row, ts] of rows) {
    const ratio = median(ts.map((t) => t.ratio));
    const where = row.split(' ')[0]!;
    const on = `quotas ${short(said(`quotas ${where}`))}${where === 'daemon' ? `, projects ${short(projects)}` : ''}`;
    console.log(`   ${labels[row]}: previous ${fmt(median(ts.map((t) => t.previous)))}/s, new ${fmt(median(ts.map((t) => t.new)))}/s (medians of slices, then of trials); trials' ratios ${ts.map((t) => t.ratio.toFixed(2)).join(', ')}; median ${ratio.toFixed(2)} (${on})`);
    check(`${labels[row]}, ${on}: >= ${TARGET.toFixed(2)} of the previous release`, ratio >= TARGET, `median of ${trials} trials ${ratio.toFixed(2)}`);
  }
}
