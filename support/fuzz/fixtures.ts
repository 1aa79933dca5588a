// The entities a run's requests refer to ($session.id, $lease, $claim, ...),
// made on first use in each run through the daemon itself: a generated body
// that names a live session or a held lease reaches the rules behind the
// checks (a claim's lifetime is only used once there is a task to claim).
// A fixture the daemon refuses (a budget the run exhausted, a key it locked)
// stands in as a value that names nothing; one it answers 5xx is a failure.
import { join } from 'node:path';
import { send, type Endpoint } from './http-client.ts';
import { Violation } from './violation.ts';
import { Ref } from './wire-value.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const missing = { session: 'no-such-session', task: 987654321, claim: { taskId: 987654321, token: 1 }, lease: { key: 'no-such-key', token: 1 }, reservation: 'no-such-reservation' };

export class Fixtures {
  private readonly made = new Map<string, Json>();
  private readonly keys = new Map<object, string>();
  private readonly endpoint: Endpoint;
  private readonly root: string;
  private readonly sentinel: string;
  private readonly deadlineMs: number;
  private readonly run: number;

  constructor(options: { endpoint: Endpoint; root: string; sentinel: string; deadlineMs: number; run: number }) {
    this.endpoint = options.endpoint;
    this.root = options.root;
    this.sentinel = options.sentinel;
    this.deadlineMs = options.deadlineMs;
    this.run = options.run;
  }

  private async post(operation: string, body: Json): Promise<Json | undefined> {
    const outcome = await send(this.endpoint, { method: 'POST', path: `/v1/${operation}`, headers: [], body: Buffer.from(JSON.stringify(body)) }, this.deadlineMs);
    if (outcome.kind !== 'answer') throw new Violation(`making a fixture: ${operation} ${JSON.stringify(body)} got no answer (${outcome.kind} after ${outcome.ms} ms)`);
    if (outcome.status >= 500) throw new Violation(`making a fixture: ${operation} ${JSON.stringify(body)} answered ${outcome.status}: ${outcome.text.slice(0, 300)}`);
    return outcome.status === 200 ? (JSON.parse(outcome.text) as Json) : undefined;
  }

  private async make(name: string): Promise<Json> {
    const tag = `fuzz-fixture-${this.run}`;
    switch (name) {
      case 'worktree':
        return this.root;
      case 'sentinelDir':
        return this.sentinel;
      case 'sentinelFile':
        return join(this.sentinel, 'planted');
      case 'session': {
        const s = (await this.post('register', { name: tag, ttlMs: 60_000 })) as { id: string } | undefined;
        // A ready task in the default queue with every session, so a claim that names no queue has one to claim even on a fresh daemon.
        await this.post('addTask', { spec: { title: `${tag}-ready` } });
        return s === undefined ? { id: missing.session } : { id: s.id };
      }
      case 'queue': {
        const t = (await this.post('addTask', { spec: { title: `${tag}-ready`, queue: `${tag}-queue` } })) as { queue: string } | undefined;
        return { name: t === undefined ? `${tag}-queue` : t.queue };
      }
      case 'task': {
        const t = (await this.post('addTask', { spec: { title: tag } })) as { id: number; version: number } | undefined;
        return t === undefined ? { id: missing.task, version: 1 } : { id: t.id, version: t.version };
      }
      case 'claim': {
        const session = (await this.get(new Ref('session', 'id'))) as string;
        const t = (await this.post('addTask', { spec: { title: `${tag}-claimed`, queue: tag } })) as { id: number } | undefined;
        const claims = t === undefined ? undefined : ((await this.post('claimByIds', { sessionId: session, ids: [t.id] })) as Array<{ taskId: number; token: number }> | undefined);
        const c = claims?.[0];
        return c === undefined ? missing.claim : { taskId: c.taskId, token: c.token };
      }
      case 'lease':
      case 'pathLease': {
        const key = name === 'lease' ? tag : 'path:**';
        const l = (await this.post('acquire', { key, owner: tag, ttlMs: 60_000, timeoutMs: 0 })) as { key: string; token: number } | undefined;
        return l === undefined ? missing.lease : { key: l.key, token: l.token };
      }
      case 'reservation': {
        const r = (await this.post('reserve', { agent: tag, estimate: 1 })) as { id: string } | undefined;
        return r === undefined ? { id: missing.reservation } : { id: r.id };
      }
      default:
        throw new Error(`no fixture ${name}`);
    }
  }

  /** The value a reference names, making its fixture first if this run has none yet. */
  async get(ref: Ref): Promise<Json> {
    let value = this.made.get(ref.fixture);
    if (value === undefined) {
      value = await this.make(ref.fixture);
      this.made.set(ref.fixture, value);
    }
    if (ref.field === undefined) return value;
    const field = (value as Record<string, Json>)[ref.field];
    if (field === undefined) throw new Error(`fixture ${ref.fixture} has no ${ref.field}`);
    return field;
  }

  /** Makes every fixture `refs` name, so `request` can then be encoded without waiting. `$idempotencyKey` is the request's own. */
  async resolver(refs: Ref[], request: object): Promise<(ref: Ref) => Json> {
    for (const ref of refs) if (ref.fixture !== 'idempotencyKey') await this.get(ref);
    let key = this.keys.get(request);
    if (key === undefined) this.keys.set(request, (key = `fuzz-${this.run}-${this.keys.size + 1}`));
    return (ref) => {
      if (ref.fixture === 'idempotencyKey') return key;
      const value = this.made.get(ref.fixture);
      if (value === undefined) throw new Error(`fixture ${ref.fixture} was not made`);
      return ref.field === undefined ? value : (value as Record<string, Json>)[ref.field] ?? null;
    };
  }
}
