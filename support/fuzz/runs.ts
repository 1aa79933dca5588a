// One run of a property: a few generated requests sent to the target (the
// entities they name made first), each answer checked, what was stored read
// back, and at the end the daemon's health, its whole state and the
// directory beside the project checked. Runs take turns on the target, and a
// failed one leaves it dirty, so the next run (and each shrinking step)
// starts on a fresh daemon.
import { operations as protocolOperations, isOperationName } from '../../src/protocol/operations.ts';
import { Fixtures } from './fixtures.ts';
import { checkRawAnswer, type RawHead } from './heads.ts';
import { send, sendRaw, type Outcome } from './http-client.ts';
import { checkOutcome, checkRefused } from './invariants.ts';
import { publishedOperations, refsIn, type FuzzRequest, type PublishedOperation } from './requests.ts';
import { checkRoundTrip } from './round-trip.ts';
import type { JsonSchema } from './schema-arbitrary.ts';
import { checkState } from './state-check.ts';
import type { FuzzTarget } from './target.ts';
import { encode, type Ref } from './wire-value.ts';

export interface FuzzContext {
  target: FuzzTarget;
  operations: PublishedOperation[];
  components: Record<string, JsonSchema>;
  /** How long an answer may take when the request asked for no wait. */
  deadlineMs: number;
  /** How long to wait on a request that asked to wait longer (acquire's timeoutMs, take with wait) before hanging up. */
  waitCutMs: number;
  runs: number;
  /** Answers by route and status ("acquire 200", "GET /v1/sessions/…/attach 400"), to see what the runs reached. */
  answers: Map<string, number>;
}

/** The published operations, from the target's own /v1/openapi.json. */
export async function fuzzContext(target: FuzzTarget, options: { deadlineMs: number; waitCutMs: number }): Promise<FuzzContext> {
  const outcome = await send(target.unix, { method: 'GET', path: '/v1/openapi.json', headers: [] }, options.deadlineMs);
  if (outcome.kind !== 'answer' || outcome.status !== 200) throw new Error(`GET /v1/openapi.json: ${outcome.kind === 'answer' ? outcome.status : outcome.kind}`);
  return { target, ...publishedOperations(JSON.parse(outcome.text)), ...options, runs: 0, answers: new Map() };
}

/** The wait a body asks for, by the operations table's own reading of it (acquire and take: their body is the options plus the key). */
function declaredWait(operation: string | undefined, body: Buffer | undefined): number {
  if (operation === undefined || body === undefined || !isOperationName(operation)) return 0;
  const waitMs = protocolOperations[operation].waitMs as ((key: unknown, options: unknown) => unknown) | undefined;
  if (waitMs === undefined) return 0;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { key?: unknown };
    const ms = Number(waitMs(parsed.key, parsed));
    return Number.isNaN(ms) ? 0 : ms;
  } catch {
    return 0;
  }
}

function describe(method: string, path: string, headers: FuzzRequest['headers'], body: Buffer | undefined): string {
  const text = body === undefined ? '' : body.length > 400 ? `${body.subarray(0, 300).toString('utf8')}…(${body.length} bytes)` : body.toString('utf8');
  return `${method} ${path}${headers.map(([n, v]) => ` [${n}: ${v.length > 40 ? `${v.slice(0, 20)}…(${v.length})` : v}]`).join('')}${text === '' ? '' : ` ${text}`}`;
}

async function exchange(ctx: FuzzContext, fixtures: Fixtures, request: FuzzRequest): Promise<void> {
  const resolve = await fixtures.resolver(refsIn(request), request);
  const body = request.body === undefined ? undefined : encode(request.body, resolve as (ref: Ref) => unknown);
  const path = request.path.map((p) => (typeof p === 'string' ? p : String(resolve(p)))).join('');
  const wait = request.refusals.length > 0 ? 0 : declaredWait(request.operation, body);
  const patienceMs = wait > ctx.waitCutMs ? ctx.waitCutMs : wait + ctx.deadlineMs;
  const outcome: Outcome = await send(ctx.target.endpoint(request.via), { method: request.method, path, headers: request.headers, ...(body === undefined ? {} : { body }) }, patienceMs);
  const sent = `${request.via} ${describe(request.method, path, request.headers, body)}`;
  const route = request.operation ?? `${request.method} ${String(request.path[0]).replace(/\?.*/, '')}`;
  const tally = `${route} ${outcome.kind === 'answer' ? outcome.status : outcome.kind}`;
  ctx.answers.set(tally, (ctx.answers.get(tally) ?? 0) + 1);
  const x = { sent, outcome, declaredWaitMs: wait, patienceMs, refusals: request.refusals };
  const status = checkOutcome(x);
  // What was accepted reads back first: "the key was dropped" says more than "it must be refused".
  if (status === 200 && outcome.kind === 'answer' && request.operation !== undefined) {
    await checkRoundTrip(ctx.target.unix, request.operation, request.body, outcome.text, resolve as (ref: Ref) => unknown, ctx.deadlineMs);
  }
  checkRefused(x, status);
}

/** One run: the requests in order, then the state check. */
export function runRequests(ctx: FuzzContext, requests: readonly FuzzRequest[]): Promise<void> {
  return ctx.target.exclusive(async () => {
    const { target } = ctx;
    const fixtures = new Fixtures({ endpoint: target.unix, root: target.project.root, sentinel: target.project.sentinel, deadlineMs: ctx.deadlineMs, run: ++ctx.runs });
    for (const request of requests) await exchange(ctx, fixtures, request);
    await checkState(target, ctx.deadlineMs);
  });
}

/** One run: a malformed head on a raw socket, then the state check. */
export function runHead(ctx: FuzzContext, h: RawHead, via: 'unix' | 'tcp'): Promise<void> {
  return ctx.target.exclusive(async () => {
    ctx.runs++;
    checkRawAnswer(h, await sendRaw(ctx.target.endpoint(via), h.bytes, ctx.deadlineMs));
    await checkState(ctx.target, ctx.deadlineMs);
  });
}
