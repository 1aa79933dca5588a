// npm run bench -- kv: compare-and-swap puts of shared state (docs/shared-state.md)
// by 8 processes, on one key (every CAS contends) and on 100 keys; against the
// embedded lease acquire+release rate of 8 processes in the same run (for
// orientation: the other one-row read-then-write baton does), and against
// etcd's own transactions when etcd is installed (Debian's etcd-server: a
// single member of our own on a temp data dir and free loopback ports, driven
// through its HTTP/JSON gateway with keep-alive). Trials alternate; medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openCoordinator } from '../src/index.ts';
import { batonOpsPerSec } from './engine.ts';
import { startBatonDaemon } from './daemon.ts';
import type { SectionContext } from './postgres.ts';
import { freePort } from '../support/free-port.ts';
import { together } from './procs.ts';

const ETCD = '/usr/bin/etcd';
const PROCS = 8;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

interface Etcd { url: string; child: ChildProcess; stop(): Promise<void> }

async function startEtcd(dir: string): Promise<Etcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child = spawn(ETCD, ['--name', 'bench', '--data-dir', dir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `bench=${peerUrl}`, '--log-level', 'error', '--logger', 'zap'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`etcd did not start: ${stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

/** CAS puts per second summed over 8 processes; also the conflicts (lost races, each retried) per second. */
async function casRate(target: string, keys: number, ms: number, prefix: string): Promise<{ perSec: number; conflictsPerSec: number; puts: number }> {
  const workers = await together(PROCS, 'kv-cas.ts', [target, String(keys), String(ms), prefix]);
  const results = await Promise.all(workers.map(async (w) => (await w.line('result ')).split(' ').slice(1).map(Number) as [number, number, number]));
  return {
    perSec: results.reduce((s, [puts, , el]) => s + (puts / el) * 1000, 0),
    conflictsPerSec: results.reduce((s, [, c, el]) => s + (c / el) * 1000, 0),
    puts: results.reduce((s, [puts]) => s + puts, 0),
  };
}

export async function kvSection(ctx: SectionContext): Promise<void> {
  const { check, work, trials, ms } = ctx;
  console.log(`\n18. Shared state: compare-and-swap puts by ${PROCS} processes (successful puts/s; a CAS with a stale revision fails, the key is read again and the CAS retried), ${trials} alternating trials of ${ms} ms, medians`);
  const etcdThere = existsSync(ETCD);
  const daemon = await startBatonDaemon(work, 'kv');
  const etcdDir = join(work, 'etcd');
  mkdirSync(etcdDir, { recursive: true });
  const etcd = etcdThere ? await startEtcd(etcdDir) : undefined;
  const rows = new Map<string, number[]>();
  const add = (name: string, v: number): void => void rows.set(name, [...(rows.get(name) ?? []), v]);
  let lostCheck = true;
  let lostDetail = '';
  try {
    for (let trial = 0; trial < trials; trial++) {
      const db = join(work, `kv-${trial}.db`);
      for (const keys of [1, 100]) {
        const prefix = `t${trial}k${keys}`;
        const embedded = await casRate(`sqlite:${db}`, keys, ms, prefix);
        add(`embedded ${keys}`, embedded.perSec);
        add(`embedded conflicts ${keys}`, embedded.conflictsPerSec);
        if (keys === 1) {
          // No lost update: the one counter ends at exactly the puts that succeeded.
          const c = await openCoordinator({ url: `sqlite:${db}` });
          const final = (await c.kvGet(`${prefix}/0`))?.value;
          await c.close();
          if (final !== embedded.puts) {
            lostCheck = false;
            lostDetail = `trial ${trial}: counter ${String(final)} after ${embedded.puts} successful puts`;
          }
        }
        const viaDaemon = await casRate(`socket:${daemon.record.socket!}`, keys, ms, prefix);
        add(`daemon ${keys}`, viaDaemon.perSec);
        add(`daemon conflicts ${keys}`, viaDaemon.conflictsPerSec);
        add(`lease ${keys}`, await batonOpsPerSec(work, 'leaser', PROCS, ms, [String(keys)]));
        if (etcd !== undefined) {
          const e = await casRate(etcd.url, keys, ms, prefix);
          add(`etcd ${keys}`, e.perSec);
          add(`etcd conflicts ${keys}`, e.conflictsPerSec);
        }
      }
    }
  } finally {
    await daemon.stop();
    await etcd?.stop();
  }
  const m = (name: string): number => median(rows.get(name) ?? [NaN]);
  const ratio = (a: string, b: string): number => median((rows.get(a) ?? []).map((x, i) => x / (rows.get(b)?.[i] ?? NaN)));
  for (const keys of [1, 100]) {
    const where = keys === 1 ? 'one key (every CAS contends)' : '100 keys';
    console.log(`   ${where}:`);
    console.log(`     baton embedded (8 processes on one SQLite file)  ${fmt(m(`embedded ${keys}`))} puts/s (${fmt(m(`embedded conflicts ${keys}`))} failed CAS/s)`);
    console.log(`     baton through the daemon (8 client processes)    ${fmt(m(`daemon ${keys}`))} puts/s (${fmt(m(`daemon conflicts ${keys}`))} failed CAS/s)`);
    console.log(`     orientation: embedded lease acquire+release      ${fmt(m(`lease ${keys}`))} pairs/s; embedded CAS / leases ${fmt(ratio(`embedded ${keys}`, `lease ${keys}`))}`);
    if (etcd !== undefined) {
      console.log(`     etcd 3.4 txn (8 processes, HTTP/JSON gateway)    ${fmt(m(`etcd ${keys}`))} puts/s (${fmt(m(`etcd conflicts ${keys}`))} failed CAS/s)`);
      console.log(`     ratios: embedded / etcd ${fmt(ratio(`embedded ${keys}`, `etcd ${keys}`))}, daemon / etcd ${fmt(ratio(`daemon ${keys}`, `etcd ${keys}`))}`);
    }
  }
  if (etcd === undefined) console.log(`   etcd: not installed (${ETCD} is missing: apt-get install etcd-server), so no etcd rows`);
  else console.log('   (etcd: one member, default fsync of its WAL per commit; baton embedded: SQLite WAL, durability normal; a lost race costs baton a kvGet, etcd none: its txn reads back in the same round trip)');
  check('CAS on one key by 8 processes loses no update (the counter equals the successful puts)', lostCheck, lostCheck ? `${trials} trials` : lostDetail);
}
