// After each run: the daemon is healthy and its whole state still reads
// (status, leases, tasks, sessions, usage, budgets, rate limits, the run's
// events), and nothing beside the project changed. Then the run's leases are
// released, so the next run's acquires do not wait on them.
import { send, type Endpoint } from './http-client.ts';
import type { FuzzTarget } from './target.ts';
import { Violation } from './violation.ts';

async function read(endpoint: Endpoint, method: string, path: string, body: unknown, deadlineMs: number): Promise<unknown> {
  const what = `${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`;
  const outcome = await send(endpoint, { method, path, headers: [], ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }) }, deadlineMs);
  if (outcome.kind !== 'answer') throw new Violation(`after the run, ${what} got no answer (${outcome.kind} after ${outcome.ms} ms)`);
  if (outcome.status !== 200) throw new Violation(`after the run, ${what} answered ${outcome.status}: ${outcome.text.slice(0, 400)}`);
  try {
    return JSON.parse(outcome.text);
  } catch {
    throw new Violation(`after the run, ${what} answered 200 with a body that is not JSON: ${outcome.text.slice(0, 200)}`);
  }
}

export async function checkState(target: FuzzTarget, deadlineMs: number): Promise<void> {
  const at = target.unix;
  await read(at, 'GET', '/v1/health', undefined, deadlineMs);
  await read(at, 'GET', '/v1/status', undefined, deadlineMs);
  const leases = (await read(at, 'POST', '/v1/listLeases', {}, deadlineMs)) as Array<{ key: string }>;
  await read(at, 'POST', '/v1/listTasks', { limit: 100_000 }, deadlineMs);
  await read(at, 'POST', '/v1/taskCounts', {}, deadlineMs);
  await read(at, 'POST', '/v1/listSessions', { includeEnded: true }, deadlineMs);
  await read(at, 'POST', '/v1/usage', {}, deadlineMs);
  await read(at, 'POST', '/v1/budgetStatus', {}, deadlineMs);
  await read(at, 'POST', '/v1/rateLimitStatus', {}, deadlineMs);
  const events = (await read(at, 'POST', '/v1/events', { after: target.lastSeq, limit: 100_000 }, deadlineMs)) as Array<{ seq: number }>;
  target.lastSeq = events.reduce((max, e) => Math.max(max, e.seq), target.lastSeq);
  const outside = target.outsideChanges();
  if (outside !== undefined) throw new Violation(`something was written outside the project: ${outside}`);
  for (const key of new Set(leases.map((l) => l.key))) {
    const outcome = await send(at, { method: 'POST', path: '/v1/forceRelease', headers: [], body: Buffer.from(JSON.stringify({ key })) }, deadlineMs);
    if (outcome.kind !== 'answer' || outcome.status >= 500) throw new Violation(`after the run, forceRelease ${JSON.stringify(key)} failed: ${outcome.kind === 'answer' ? `${outcome.status} ${outcome.text.slice(0, 300)}` : outcome.kind}`);
  }
}
