// One client process of the multi-node chaos test (test/chaos/postgres-nodes.test.ts),
// bound to one daemon's unix socket. Usage:
//   pg-chaos-worker.ts loop   <socket> <name> <dir> <keys>   leases, tasks and budgets; says 'ready' once registered;
//                                                            stdin 'drain': no more tasks added, 'stop': ends
//   pg-chaos-worker.ts sticky <socket> <name> <dir>          holds 'sticky' (and a claim) until killed; stdin 'check'
//   pg-chaos-worker.ts waiter <socket> <name> <dir>          waits for 'sticky', holds it a moment, exits
//
// Everything it learns goes to its own append-only log, <dir>/<name>.log, one
// line per fact, written synchronously (a kill -9 loses no line already
// written). Times are CLOCK_MONOTONIC milliseconds (process.hrtime: one clock
// for every process on the host), so the test can line up logs of different
// processes and its own kill times. A hold is the holder's own view: from the
// moment acquire returned ('hold') to the moment it calls release ('free').
// Each hold also writes its token to the key's protected resource,
// <dir>/resource-<key>.jsonl, as a fenced store would see it. An attempt
// whose outcome is unknown (killed, UNAVAILABLE) is logged as 'try-...'
// before the call; an acknowledged one as its result after it. A hold line
// carries what ends the lease without the holder's knowing: its expiry (the
// store's clock, with Date.now() beside it to convert) and its session.
import { appendFileSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteCoordinator, type Claim, type Lease } from '../../src/client/index.ts';

const [mode, socketPath, name, dir, keysArg] = process.argv.slice(2) as [string, string, string, string, string?];
const KEYS = Number(keysArg ?? 3);
/** Longer than any hold by far: a lease lapses only when its holder is gone. */
const LEASE_TTL_MS = 10_000;
const RESERVATION_TTL_MS = 3_000;

const log = openSync(join(dir, `${name}.log`), 'a');
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
const out = (line: string): void => {
  writeSync(log, `${line}\n`);
};
const say = (line: string): boolean => process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
const codeOf = (error: unknown): string => String((error as { code?: unknown }).code ?? (error as Error).name ?? 'ERROR');
const oneLine = (error: unknown): string => String((error as Error).message ?? error).replace(/\s+/g, ' ').slice(0, 300);

/** The protected resource of a key: what a fenced store saw, in the order it saw it. */
function protect(key: string, token: number): void {
  appendFileSync(join(dir, `resource-${key}.jsonl`), `${JSON.stringify({ token, by: name, at: mono() })}\n`);
}

const c = new RemoteCoordinator({ socketPath });
out(`start ${name} ${process.pid} ${mono()}`);

let stopping = false;
/** No more tasks added: the test drains the queue. */
let draining = false;
const commands: Array<(line: string) => void> = [];
process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
  for (const line of chunk.split('\n').filter(Boolean)) {
    if (line === 'stop') stopping = true;
    if (line === 'drain') draining = true;
    for (const handler of commands) handler(line);
  }
});
process.stdin.on('end', () => (stopping = true));

let sessionId: string | undefined;
async function session(): Promise<string> {
  if (sessionId !== undefined) return sessionId;
  const s = await c.register({ name, kind: 'pg-chaos', ttlMs: 30_000 });
  sessionId = s.id;
  out(`session ${s.id} ${mono()}`);
  return s.id;
}

/** Runs one step; a refusal or failure is logged, and a session that ended is registered again. */
async function step(op: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    const code = codeOf(error);
    out(`err ${op} ${code} ${oneLine(error)}`);
    if (code === 'SESSION_ENDED' || (code === 'NOT_FOUND' && /session/.test(oneLine(error)))) sessionId = undefined;
    await sleep(between(20, 100));
  }
}

async function leaseStep(): Promise<void> {
  const key = `k${between(0, KEYS - 1)}`;
  const sid = await session();
  const lease = await c.acquire(key, { owner: name, sessionId: sid, ttlMs: LEASE_TTL_MS, timeoutMs: 5_000 });
  out(`hold ${key} ${lease.token} ${mono()} ${Date.now()} ${lease.expiresAt} ${sid}`);
  protect(key, lease.token);
  await sleep(between(1, 6));
  out(`free ${key} ${lease.token} ${mono()}`);
  await c.release(lease);
}

async function completeStep(claim: Claim): Promise<void> {
  out(`try-done ${claim.taskId} ${claim.token}`);
  try {
    await c.complete(claim, { by: name, token: claim.token });
  } catch (error) {
    out(`done-err ${claim.taskId} ${claim.token} ${codeOf(error)}`);
    throw error;
  }
  out(`done ${claim.taskId} ${claim.token}`);
}

let added = 0;
async function taskStep(): Promise<void> {
  const sid = await session();
  if (!draining && Math.random() < 0.3) {
    const n = added++;
    out(`try-add ${name}-${n}`);
    const task = await c.addTask({ title: `${name}-${n}`, maxAttempts: 1000 });
    out(`added ${task.id} ${name}-${n}`);
  }
  const claims = await c.claim(sid, { n: 1, leaseMs: 10_000 });
  for (const claim of claims) {
    out(`claimed ${claim.taskId} ${claim.token}`);
    await sleep(between(0, 3));
    await completeStep(claim);
  }
}

async function budgetStep(): Promise<void> {
  const estimate = between(500, 3000);
  let id: string;
  try {
    id = (await c.reserve({ agent: name, model: 'budgeted', estimate, ttlMs: RESERVATION_TTL_MS })).id;
  } catch (error) {
    if (codeOf(error) === 'BUDGET_EXCEEDED') {
      out(`refused ${estimate}`);
      return;
    }
    throw error;
  }
  out(`reserved ${id} ${estimate}`);
  // The "call" the reservation pays for: reservations overlap, so they compete for the room left under the limit.
  await sleep(between(5, 60));
  if (Math.random() < 0.25) {
    // The call failed: nothing was used.
    out(`try-cancel ${id}`);
    await c.cancelReservation(id);
    out(`cancelled ${id}`);
    return;
  }
  // Within the estimate, always: what the engine promises holds only for such commits (src/engine/budgets.ts).
  const actual = between(Math.ceil(estimate / 2), estimate);
  const prompt = Math.floor(actual * 0.7);
  out(`try-commit ${id} ${actual}`);
  const result = await c.commitReservation(id, { promptTokens: prompt, completionTokens: actual - prompt });
  out(`committed ${id} ${actual} ${result.overshoot === null ? 'within' : `overshoot:${result.overshoot.by}`}`);
  if (Math.random() < 0.3) {
    // Unbudgeted usage reported after the fact (model 'free' has no budget): it must be recorded all the same.
    const tokens = between(10, 500);
    out(`try-report ${tokens}`);
    await c.report({ agent: name, model: 'free', promptTokens: tokens, completionTokens: 0 });
    out(`reported ${tokens}`);
  }
}

async function loop(): Promise<void> {
  let ready = false;
  while (!stopping) {
    await step('lease', leaseStep);
    if (!ready && sessionId !== undefined) {
      // At work: registered with its daemon (the test kills only workers that got this far).
      say('ready');
      ready = true;
    }
    if (stopping) break;
    await step('task', taskStep);
    if (stopping) break;
    if (Math.random() < 0.5) await step('budget', budgetStep);
    await sleep(between(2, 15));
  }
  // Claims are completed before a step ends: nothing is left claimed by a worker that stops.
  if (sessionId !== undefined) await c.endSession(sessionId).catch(() => undefined);
}

async function sticky(): Promise<void> {
  const sid = await session();
  // ttlMs 0: the lease lasts as long as the session; only the session's end (its node lapsing) frees it.
  const lease = await c.acquire('sticky', { owner: name, sessionId: sid, ttlMs: 0, timeoutMs: 30_000 });
  out(`hold sticky ${lease.token} ${mono()} ${Date.now()} null ${sid}`);
  protect('sticky', lease.token);
  const [claim] = await c.claim(sid, { n: 1, leaseMs: 600_000 });
  if (claim !== undefined) out(`claimed ${claim.taskId} ${claim.token}`);
  say(`held ${JSON.stringify({ token: lease.token, sessionId: sid, taskId: claim?.taskId ?? null })}`);
  // Asked after its daemon died and came back: is the lease still its own?
  commands.push((line) => {
    if (line !== 'check') return;
    c.checkLease(lease).then(
      () => say('check held'),
      (error: unknown) => say(`check ${codeOf(error)} ${oneLine(error)}`),
    );
  });
  setInterval(() => undefined, 1 << 30);
}

async function waiter(): Promise<void> {
  await session();
  say('waiting');
  for (;;) {
    const sid = await session();
    let lease: Lease;
    try {
      lease = await c.acquire('sticky', { owner: name, sessionId: sid, ttlMs: LEASE_TTL_MS, timeoutMs: 120_000 });
    } catch (error) {
      // Its own session ended while it waited (its daemon's node lapsed): in line again with a new one.
      if (codeOf(error) !== 'SESSION_ENDED') throw error;
      out(`err acquire SESSION_ENDED ${oneLine(error)}`);
      say(`session-ended ${oneLine(error)}`);
      sessionId = undefined;
      continue;
    }
    const at = mono();
    out(`hold sticky ${lease.token} ${at} ${Date.now()} ${lease.expiresAt} ${sid}`);
    protect('sticky', lease.token);
    say(`granted ${lease.token} ${at}`);
    await sleep(5);
    out(`free sticky ${lease.token} ${mono()}`);
    await c.release(lease);
    await c.endSession(sid);
    return;
  }
}

try {
  if (mode === 'loop') await loop();
  else if (mode === 'sticky') await sticky();
  else if (mode === 'waiter') await waiter();
  else throw new Error(`unknown mode ${mode}`);
  if (mode !== 'sticky') {
    out(`exit ${mono()}`);
    await c.close();
    process.exit(0);
  }
} catch (error) {
  out(`fatal ${codeOf(error)} ${oneLine(error)}`);
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
