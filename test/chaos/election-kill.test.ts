// Leader election under kill -9 of the leader: real processes campaign
// through a real daemon; each leader logs its term (fencing token, the
// lease's store times) and, every 20 ms, that the store still says it leads.
// After each kill a new leader is elected within the lease's takeover time
// (TTL, then the sweep), and from the logs and the store's own events: never
// two leaders at once, terms increasing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from '../../support/daemon.ts';
import { sleep, startNode, tempDir, worker, type Running } from '../helpers/procs.ts';

const TTL_MS = 1000;
/** The daemon's sweep interval (the engine's default). */
const SWEEP_MS = 500;
const KILLS = Number(process.env.CHAOS_ROUNDS ?? 4);
/** A request's time on a loaded machine: a renewal asked before a kill and applied after it. */
const IN_FLIGHT_MS = 300;

interface Entry { pid: number; ev: 'elected' | 'still' | 'lost'; token: number; t: number; acquiredAt?: number; expiresAt?: number | null }

interface Term { token: number; pid: number; acquiredAt: number; lastConfirmed: number; lastExpiresAt: number }

/** Terms from the leaders' logs, in token order; throws if two overlap or tokens do not follow election order. */
function checkTerms(entries: Entry[]): Term[] {
  const terms = new Map<number, Term>();
  for (const e of entries) {
    if (e.ev === 'elected') terms.set(e.token, { token: e.token, pid: e.pid, acquiredAt: e.acquiredAt!, lastConfirmed: e.t, lastExpiresAt: e.expiresAt ?? Infinity });
  }
  for (const e of entries) {
    const term = terms.get(e.token);
    assert.ok(term !== undefined, `a log line for term ${e.token} that was never elected`);
    assert.notEqual(e.ev, 'lost', `term ${e.token} (pid ${e.pid}) lost its leadership while alive: ${JSON.stringify(e)}`);
    if (e.ev === 'still') {
      term.lastConfirmed = Math.max(term.lastConfirmed, e.t);
      term.lastExpiresAt = Math.max(term.lastExpiresAt, e.expiresAt ?? Infinity);
    }
  }
  const byToken = [...terms.values()].sort((a, b) => a.token - b.token);
  const byTime = [...terms.values()].sort((a, b) => a.acquiredAt - b.acquiredAt);
  assert.deepEqual(byTime.map((t) => t.token), byToken.map((t) => t.token), 'terms (fencing tokens) increase in the order leaders were elected');
  for (let i = 1; i < byToken.length; i++) {
    const prev = byToken[i - 1]!;
    const next = byToken[i]!;
    // A check asked at t that the store confirmed means prev still led at some moment after t.
    assert.ok(prev.lastConfirmed < next.acquiredAt, `two leaders at once: term ${prev.token} (pid ${prev.pid}) confirmed at ${prev.lastConfirmed}, term ${next.token} (pid ${next.pid}) began at ${next.acquiredAt}`);
    assert.ok(prev.lastExpiresAt <= next.acquiredAt, `term ${prev.token}'s lease ran to ${prev.lastExpiresAt}, past term ${next.token}'s start at ${next.acquiredAt}`);
  }
  return byToken;
}

const readLog = (file: string): Entry[] => {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // A kill -9 can cut the last line short.
  return text.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Entry];
    } catch {
      return [];
    }
  });
};

test(`${KILLS} kills -9 of the leader: a new leader within the lease's takeover time, never two at once, terms increasing`, { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const logs: string[] = [];
  const running = new Set<Running>();
  const spawn = (): Running => {
    const log = join(dir, `elector-${logs.length}.log`);
    logs.push(log);
    const p = startNode(worker('elector'), [socket, 'chaos', log, String(TTL_MS)]);
    running.add(p);
    void p.done.then(() => running.delete(p));
    return p;
  };
  t.after(() => {
    for (const p of running) p.child.kill('SIGKILL');
  });
  for (let i = 0; i < 4; i++) spawn();
  await Promise.all([...running].map((p) => p.line('campaigning', 30_000)));

  const leaderNow = async (after: number): Promise<{ proc: Running; token: number }> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const p of running) {
        const line = p.lines().find((l) => l.startsWith('leading '));
        const token = line === undefined ? NaN : Number(line.split(' ')[1]);
        if (token > after) return { proc: p, token };
      }
      if (Date.now() > deadline) throw new Error(`no leader after term ${after} within 30 s; daemon stderr: ${daemon.stderr()}`);
      await sleep(10);
    }
  };

  const takeovers: Array<{ killedAt: number; token: number }> = [];
  let current = await leaderNow(0);
  for (let k = 0; k < KILLS; k++) {
    await sleep(300 + Math.random() * 700); // the leader has renewed and checked a few times
    const killedAt = Date.now();
    current.proc.child.kill('SIGKILL');
    await current.proc.done;
    spawn(); // keep four in line
    const next = await leaderNow(current.token);
    takeovers.push({ killedAt, token: next.token });
    current = next;
  }
  await sleep(300);
  for (const p of running) p.child.kill('SIGKILL');

  const terms = checkTerms(logs.flatMap(readLog));
  assert.equal(terms.length, KILLS + 1, `one term per leader: ${terms.map((x) => x.token).join(', ')}`);

  // The store's own account: each killed term's lease expired before the next began, and the next began within a sweep of it.
  const c = daemon.client();
  const events = (await c.events({ types: ['lease.'], limit: 100_000 })).filter((e) => e.key === 'election:chaos');
  const gaps: number[] = [];
  const took: number[] = [];
  for (const [i, { killedAt, token }] of takeovers.entries()) {
    const prev = terms[i]!;
    const next = terms.find((x) => x.token === token)!;
    const expired = events.find((e) => e.type === 'lease.expired' && e.data.token === prev.token);
    assert.ok(expired !== undefined, `term ${prev.token}'s lease expired (it was killed, never released)`);
    const expiresAt = Number(expired.data.expiresAt);
    assert.ok(expiresAt <= next.acquiredAt, `term ${prev.token} ran to ${expiresAt}, term ${token} began at ${next.acquiredAt}`);
    // A renewal the leader sent just before the kill may be applied just after it: allow that request's time.
    assert.ok(expiresAt - killedAt <= TTL_MS + IN_FLIGHT_MS, `term ${prev.token} outlived its killed leader by ${expiresAt - killedAt} ms, more than its TTL and a renewal in flight`);
    gaps.push(next.acquiredAt - expiresAt);
    took.push(next.acquiredAt - killedAt);
  }
  // Takeover time: the TTL, then the sweep that expires the lease (and hands it to the next in line).
  for (const gap of gaps) assert.ok(gap <= SWEEP_MS + 500, `the next leader came ${gap} ms after the lease expired (sweep every ${SWEEP_MS} ms)`);
  console.log(`# election under kill -9: ${KILLS} takeovers, kill to next term ${took.join(', ')} ms (TTL ${TTL_MS} + sweep ${SWEEP_MS}); lease expiry to next term ${gaps.join(', ')} ms; terms ${terms.map((x) => x.token).join(' < ')}`);
});

test('the check can fail: two processes that "lead" without the election are caught overlapping', async (t) => {
  const dir = tempDir(t);
  const logs = [join(dir, 'a.log'), join(dir, 'b.log')];
  const procs = logs.map((log) => startNode(worker('elector'), ['/nonexistent.sock', 'chaos', log, String(TTL_MS), '--no-election']));
  t.after(() => {
    for (const p of procs) p.child.kill('SIGKILL');
  });
  await Promise.all(procs.map((p) => p.line('leading')));
  await sleep(300);
  for (const p of procs) p.child.kill('SIGKILL');
  assert.throws(() => checkTerms(logs.flatMap(readLog)), /two leaders at once|increase/);
});
