// The fuzzer's properties, each a stream of runs (runs.ts) against one
// target: fitting bodies for each group of operations, mutated bodies, invalid
// UTF-8, headers and URLs, and malformed heads. Every property checks every
// invariant; they differ in what they generate, so each class of defect has
// the property most likely to find it.
import * as fc from 'fast-check';
import { rawHead } from './heads.ts';
import { headerRequest, holdsStrings, invalidUtf8Request, operationRequest, urlRequest, type FuzzRequest, type PublishedOperation } from './requests.ts';
import { runHead, runRequests, type FuzzContext } from './runs.ts';

/** The tally of answers, one line per route: "acquire 200×12 400×30 423×2". */
export function answerSummary(ctx: FuzzContext): string[] {
  const byRoute = new Map<string, string[]>();
  for (const [tally, n] of [...ctx.answers].sort()) {
    const cut = tally.lastIndexOf(' ');
    const route = tally.slice(0, cut);
    byRoute.set(route, [...(byRoute.get(route) ?? []), `${tally.slice(cut + 1)}×${n}`]);
  }
  return [...byRoute].map(([route, counts]) => `${route} ${counts.join(' ')}`);
}

export interface FuzzProperty {
  name: string;
  /** Its share of the time budget. */
  share: number;
  property(ctx: FuzzContext): fc.IAsyncProperty<[unknown]>;
}

/** Operations by concept, so each group's runs are spent on it; an operation in none is fuzzed in "other operations". */
const groups: Array<[string, string[]]> = [
  ['leases', ['acquire', 'renew', 'release', 'forceRelease', 'checkLease', 'getLease', 'listLeases']],
  ['sessions', ['register', 'heartbeat', 'endSession', 'getSession', 'listSessions']],
  ['tasks', ['addTask', 'addTasks', 'getTask', 'listTasks', 'taskCounts', 'updateTask', 'removeTask', 'reorderTask', 'cancel']],
  ['claims', ['claim', 'claimByIds', 'renewClaim', 'releaseClaim', 'complete', 'completeMany', 'fail']],
  ['budgets', ['setBudget', 'removeBudget', 'report', 'budgetStatus', 'usage', 'reserve', 'commitReservation', 'cancelReservation', 'resetBudget']],
  ['rate limits', ['setRateLimit', 'take', 'rateLimitStatus']],
  ['events', ['events', 'publish', 'sweep']],
  ['files', ['writeFile', 'deleteFile', 'renameFile', 'readFile']],
  ['git', ['gitStatus', 'gitCommit']],
];

/** The groups over the published operations: every one of them falls in exactly one. */
export function operationGroups(published: readonly PublishedOperation[]): Array<[string, PublishedOperation[]]> {
  const byName = new Map(published.map((o) => [o.name, o]));
  const out = groups.map(([name, members]) => [name, members.flatMap((m) => byName.get(m) ?? [])] as [string, PublishedOperation[]]);
  const grouped = new Set(groups.flatMap(([, m]) => m));
  out.push(['other operations', published.filter((o) => !grouped.has(o.name))]);
  return out.filter(([, ops]) => ops.length > 0);
}

/** A run of 1 to 3 requests, each sometimes sent twice in a row (a retry, a second report). */
const runOf = (request: fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest[]> =>
  fc.array(fc.tuple(request, fc.constantFrom(1, 1, 1, 2)), { minLength: 1, maxLength: 3 }).map((items) => items.flatMap(([r, times]) => Array.from({ length: times }, () => r)));

const anyOf = (ctx: FuzzContext, make: (op: PublishedOperation) => fc.Arbitrary<FuzzRequest>, ops = ctx.operations): fc.Arbitrary<FuzzRequest> => fc.oneof(...ops.map(make));

/** The properties, for the operations a target publishes. */
export function fuzzProperties(published: readonly PublishedOperation[]): FuzzProperty[] {
  const shaped: FuzzProperty[] = operationGroups(published).map(([group, ops]) => ({
    name: `schema-shaped bodies: ${group} (${ops.map((o) => o.name).join(', ')})`,
    share: group === 'files' || group === 'git' ? 0.8 : 1,
    property: (ctx) => fc.asyncProperty(runOf(anyOf(ctx, (op) => operationRequest(op, ctx.components, 0), ops)), (requests) => runRequests(ctx, requests)) as fc.IAsyncProperty<[unknown]>,
  }));
  return [
    ...shaped,
    {
      name: 'mutated bodies, every operation: wrong types, sizes and numbers past their bounds, unknown and dangerous field names at every level',
      share: 2,
      property: (ctx) =>
        fc.asyncProperty(fc.array(anyOf(ctx, (op) => operationRequest(op, ctx.components, 2).filter((r) => r.refusals.length > 0)), { minLength: 1, maxLength: 2 }), (requests) => runRequests(ctx, requests)) as fc.IAsyncProperty<[unknown]>,
    },
    {
      name: 'invalid UTF-8 inside a string, every operation',
      share: 1.2,
      property: (ctx) => {
        const stringy = ctx.operations.filter((op) => holdsStrings(op.schema, ctx.components));
        return fc.asyncProperty(anyOf(ctx, (op) => invalidUtf8Request(op, ctx.components), stringy), (request) => runRequests(ctx, [request])) as fc.IAsyncProperty<[unknown]>;
      },
    },
    {
      name: 'headers and URLs: Idempotency-Key twice, empty or too long; malformed percent-encoding in attach; odd event queries; unknown routes',
      share: 1.5,
      property: (ctx) =>
        fc.asyncProperty(runOf(fc.oneof(anyOf(ctx, (op) => headerRequest(op, ctx.components)), urlRequest)), (requests) => runRequests(ctx, requests)) as fc.IAsyncProperty<[unknown]>,
    },
    {
      name: 'malformed request heads on a raw socket',
      share: 1.2,
      property: (ctx) => fc.asyncProperty(rawHead, fc.constantFrom<'unix' | 'tcp'>('unix', 'tcp'), (h, via) => runHead(ctx, h, via)) as unknown as fc.IAsyncProperty<[unknown]>,
    },
  ];
}
