// Bench worker processes: start n of a script in bench/workers/, wait until
// every one has warmed up ('ready'), then let them go at once (stdin 'go').
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;

export interface Worker {
  child: ChildProcess;
  /** The first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  go(): void;
}

export function worker(script: string, args: string[]): Worker {
  const child = spawn(process.execPath, [join(here, 'workers', script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: Array<{ prefix: string; resolve(line: string): void }> = [];
  let partial = '';
  let exited = false;
  const fail = (): void => {
    exited = true;
    for (const w of waiting.splice(0)) w.resolve(`exited ${child.exitCode}`);
  };
  child.on('close', fail); // after stdout's last data
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiting.filter((x) => l.startsWith(x.prefix))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const line = async (prefix: string): Promise<string> => {
    const seen = lines.find((l) => l.startsWith(prefix));
    const got = seen ?? (exited ? `exited ${child.exitCode}` : await new Promise<string>((resolve) => waiting.push({ prefix, resolve })));
    if (!got.startsWith(prefix)) throw new Error(`bench worker ${script} ${args.join(' ')} exited (${child.exitCode}) before printing '${prefix}'`);
    return got;
  };
  return { child, line, go: () => child.stdin!.end('go\n') };
}

/** Starts n workers, waits until every one has warmed up, then lets them go at once. */
export function together(n: number, script: string, args: string[]): Promise<Worker[]> {
  return goTogether(Array.from({ length: n }, () => worker(script, args)));
}

/** Waits until every one of `workers` has warmed up, then lets them go at once; if one fails, stops them all. */
export async function goTogether(workers: Worker[]): Promise<Worker[]> {
  try {
    await Promise.all(workers.map((w) => w.line('ready')));
  } catch (error) {
    for (const w of workers) w.child.kill();
    throw error;
  }
  for (const w of workers) w.go();
  return workers;
}

/**
 * Handoff gaps from workers that each print `events [[askedAt, acquiredAt, releasedAt], ...]`:
 * the time from one process's release to the next holder's acquire, when the
 * next holder is another process that was already waiting (it asked before the
 * release began). A next holder that asked later found the lock free: its time
 * is its own acquire, not a handoff. Sorted, in ms.
 */
export async function handoffGaps(workers: Worker[]): Promise<number[]> {
  const events = (
    await Promise.all(
      workers.map(async (w, who) => (JSON.parse((await w.line('events')).slice(7)) as Array<[number, number, number]>).map(([asked, got, rel]) => ({ who, asked, got, rel }))),
    )
  )
    .flat()
    .sort((a, b) => a.got - b.got);
  const gaps: number[] = [];
  for (let i = 1; i < events.length; i++) {
    const prev = events[i - 1]!;
    const next = events[i]!;
    if (next.who !== prev.who && next.asked <= prev.rel) gaps.push(next.got - prev.rel);
  }
  return gaps.sort((a, b) => a - b);
}

/** A whole number from the environment (BENCH_*), or `fallback`; anything else stops the bench with a line naming it. */
export function benchNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`baton bench: ${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}
