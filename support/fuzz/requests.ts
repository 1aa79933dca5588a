// Requests as the fuzzer generates them, for every operation the daemon
// publishes: a body from the operation's request schema (fitting, or
// mutated), and around it what the schema does not describe: the transport,
// an Idempotency-Key given twice, invalid UTF-8 inside a string, malformed
// percent-encoding in a session's attach URL, odd event-stream queries.
import * as fc from 'fast-check';
import { holdsLoneSurrogate, holdsNonFinite } from './edge-values.ts';
import { genFor, type At, type Build, type Gen, type JsonSchema } from './schema-arbitrary.ts';
import { references } from './references.ts';
import { RawString, Ref, Repeated, show, WireObject, type Wire } from './wire-value.ts';

export class FuzzRequest {
  readonly via: 'unix' | 'tcp';
  readonly method: string;
  /** The path, with a reference where a live entity's id goes. */
  readonly path: ReadonlyArray<string | Ref>;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Wire | undefined;
  /** Why the daemon must refuse it with 400 (or 413); empty when it may accept it. */
  readonly refusals: readonly string[];
  /** The operation, for a POST /v1/<operation>. */
  readonly operation: string | undefined;

  constructor(r: { via: 'unix' | 'tcp'; method: string; path: ReadonlyArray<string | Ref>; headers?: ReadonlyArray<readonly [string, string]>; body?: Wire; refusals?: readonly string[]; operation?: string }) {
    this.via = r.via;
    this.method = r.method;
    this.path = r.path;
    this.headers = r.headers ?? [];
    this.body = r.body;
    this.refusals = r.refusals ?? [];
    this.operation = r.operation;
  }

  [fc.toStringMethod](): string {
    const path = this.path.map((p) => (typeof p === 'string' ? p : show(p))).join('');
    const headers = this.headers.map(([n, v]) => ` [${n}: ${show(v)}]`).join('');
    const body = this.body === undefined ? '' : ` ${show(this.body)}`;
    const must = this.refusals.length > 0 ? ` (must be refused: ${this.refusals.join('; ')})` : '';
    return `${this.via} ${this.method} ${path}${headers}${body}${must}`;
  }
}

export interface PublishedOperation {
  name: string;
  mutation: boolean;
  schema: JsonSchema;
}

interface OpenApi {
  paths: Record<string, { post?: { operationId?: string; parameters?: Array<{ name: string }>; requestBody?: { content: Record<string, { schema: JsonSchema }> } } }>;
  components: { schemas: Record<string, JsonSchema> };
}

/** Every POST /v1/<operation> of the document, with its request schema; mutations are those that take an Idempotency-Key. */
export function publishedOperations(document: unknown): { operations: PublishedOperation[]; components: Record<string, JsonSchema> } {
  const doc = document as OpenApi;
  const operations: PublishedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const schema = item.post?.requestBody?.content['application/json']?.schema;
    // Operations are /v1/<name>; /v1/mcp and the dashboard's /v1/ui/* are routes of their own.
    if (!path.startsWith('/v1/') || schema === undefined || path === '/v1/mcp' || path.slice(4).includes('/')) continue;
    operations.push({ name: path.slice(4), mutation: (item.post?.parameters ?? []).some((p) => p.name === 'Idempotency-Key'), schema });
  }
  return { operations, components: doc.components.schemas };
}

const transport = fc.oneof({ weight: 3, arbitrary: fc.constant<'unix'>('unix') }, { weight: 1, arbitrary: fc.constant<'tcp'>('tcp') });

/** POST /v1/<operation> with a body from its schema; `mutate` as in Build (0: fitting bodies only). */
/** What the daemon refuses anywhere in a body, whatever the schema says there. */
function bodyRules(body: Wire): string[] {
  return [...(holdsLoneSurrogate(body) ? ['body holds a lone surrogate'] : []), ...(holdsNonFinite(body) ? ['body holds a number that is not finite'] : [])];
}

export function operationRequest(op: PublishedOperation, components: Record<string, JsonSchema>, mutate: number): fc.Arbitrary<FuzzRequest> {
  const build: Build = { components, mutate, hook: references };
  const at: At = { operation: op.name, path: [] };
  return fc.tuple(transport, genFor(op.schema, build, at)).map(([via, g]) => new FuzzRequest({ via, method: 'POST', path: [`/v1/${op.name}`], body: g.value, refusals: [...g.refusals, ...bodyRules(g.value)], operation: op.name }));
}

const keyText = fc.stringMatching(/^[A-Za-z0-9-]{1,16}$/);

interface HeaderChoice {
  headers: Array<[string, string]>;
  refusals: string[];
}

const headerChoice = (headers: Array<[string, string]>, refusals: string[]): HeaderChoice => ({ headers, refusals });

/** An Idempotency-Key header as a client might get it wrong: twice with different values, empty, too long, on a read. */
function idempotencyHeaders(mutation: boolean): fc.Arbitrary<HeaderChoice> {
  const none = fc.constant(headerChoice([], []));
  const one = keyText.map((k) => headerChoice([['Idempotency-Key', k]], mutation ? [] : ['a read takes no Idempotency-Key']));
  if (!mutation) return fc.oneof(none, one);
  const twice = fc
    .tuple(keyText, keyText)
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => headerChoice([['Idempotency-Key', a], ['Idempotency-Key', b]], ['two Idempotency-Key headers with different values']));
  return fc.oneof(
    { weight: 1, arbitrary: none },
    { weight: 1, arbitrary: one },
    { weight: 3, arbitrary: twice },
    { weight: 1, arbitrary: fc.constant(headerChoice([['Idempotency-Key', '']], ['an empty Idempotency-Key'])) },
    { weight: 1, arbitrary: fc.constant(headerChoice([['Idempotency-Key', 'k'.repeat(257)]], ['an Idempotency-Key past 256 characters'])) },
  );
}

/** A fitting body with Idempotency-Key headers as above. */
export function headerRequest(op: PublishedOperation, components: Record<string, JsonSchema>): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(operationRequest(op, components, 0), idempotencyHeaders(op.mutation)).map(
    ([r, h]) => new FuzzRequest({ ...r, path: r.path, headers: h.headers, refusals: [...r.refusals, ...h.refusals], operation: r.operation }),
  );
}

/** Whether a body of `schema` can hold a string value at all (else there is nowhere to put invalid UTF-8). */
export function holdsStrings(schema: JsonSchema, components: Record<string, JsonSchema>, seen = new Set<JsonSchema>()): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  const target = schema.$ref === undefined ? schema : components[schema.$ref.replace('#/components/schemas/', '')];
  if (target === undefined) return false;
  if (target.type === 'string' || target.type === undefined) return true;
  const parts = [...Object.values(target.properties ?? {}), ...(target.anyOf ?? []), ...(target.items === undefined ? [] : [target.items]), ...(typeof target.additionalProperties === 'object' ? [target.additionalProperties] : [])];
  return parts.some((p) => holdsStrings(p, components, seen));
}

/** Byte sequences that are not UTF-8: a stray continuation, an overlong '/', an encoded surrogate, a cut sequence, past U+10FFFF. */
const invalidUtf8 = fc.constantFrom([0xff], [0xfe], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe0, 0xa4], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3]);

/** Every string value in `value` (not keys), with where it is, depth first. */
function stringsIn(value: Wire, path: string): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path, value }];
  if (value instanceof WireObject) return value.entries.flatMap(([k, v]) => stringsIn(v, `${path}.${k}`));
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`));
  return [];
}

function replaceString(value: Wire, index: number, by: Wire): Wire {
  let seen = -1;
  const walk = (v: Wire): Wire => {
    if (typeof v === 'string') return ++seen === index ? by : v;
    if (v instanceof WireObject) return new WireObject(v.entries.map(([k, item]) => [k, walk(item)]));
    if (Array.isArray(v)) return v.map(walk);
    return v;
  };
  return walk(value);
}

/** A fitting body with one string's content made invalid UTF-8 (sent as raw bytes): it must be refused, not read as U+FFFD. */
export function invalidUtf8Request(op: PublishedOperation, components: Record<string, JsonSchema>): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(operationRequest(op, components, 0), fc.nat(), invalidUtf8, fc.nat({ max: 3 }))
    .map(([r, pick, bad, where]) => {
      const strings = stringsIn(r.body ?? null, 'body');
      const chosen = strings[pick % Math.max(1, strings.length)];
      if (chosen === undefined) return undefined;
      const text = Buffer.from(chosen.value.slice(0, 8), 'utf8');
      const at = Math.min(where, text.length);
      const bytes = Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]);
      const body = replaceString(r.body ?? null, pick % strings.length, new RawString(bytes));
      return new FuzzRequest({ ...r, path: r.path, body, refusals: [...r.refusals, `${chosen.path} is not UTF-8`], operation: r.operation });
    })
    .filter((r): r is FuzzRequest => r !== undefined);
}

/** A session id as it may arrive in a URL: malformed percent-encoding, encoded NUL and slash, a live session's id. */
const sessionSegment: fc.Arbitrary<ReadonlyArray<string | Ref>> = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom('%', '%E0%A4%A', '%zz', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%2F', '%%', 'a', '%E2%82', '%2e%2e'), { minLength: 1, maxLength: 4 }).map((parts) => [parts.join('')]) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((s) => [encodeURIComponent(s)]) },
  { weight: 1, arbitrary: fc.uuid().map((u) => [u]) },
  { weight: 1, arbitrary: fc.constant([new Ref('session', 'id')]) },
);

/** Odd seqs: negative, fractional, past 2^53, not numbers, malformed percent-encoding, encoded spaces ('%201'). */
const eventQueryValue = fc.constantFrom('', '0', '-1', '1.5', '1e3', '9007199254740992', '99999999999999999999', 'abc', '%zz', '%', '%201', '+1', '0x10');

/** GETs with something odd in the URL: attach, the event stream's query and Last-Event-ID, unknown routes and methods. */
export const urlRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(transport, sessionSegment).map(([via, id]) => new FuzzRequest({ via, method: 'GET', path: ['/v1/sessions/', ...id, '/attach'] })),
  fc.tuple(transport, eventQueryValue, fc.constantFrom('', 'lease.', '%', ',,', '%zz', 'a'.repeat(300)), fc.option(eventQueryValue, { nil: undefined })).map(
    ([via, after, topics, resume]) => new FuzzRequest({ via, method: 'GET', path: [`/v1/events?after=${after}&topics=${topics}`], headers: resume === undefined ? [] : [['Last-Event-ID', resume]] }),
  ),
  fc.tuple(transport, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), fc.constantFrom('/v1/acquire', '/v1/status', '/v1/nope', '/v1/', '/', '/v1/sessions//attach', '/v1/sessions/a/b/attach', '/v1/acquire/x', '//v1/status', '/v1/status?x=%zz', '/v1/%zz', '/v1/__proto__', '/v1/constructor', '/v1/toString', '/v1/hasOwnProperty')).map(
    ([via, method, path]) => new FuzzRequest({ via, method, path: [path], ...(method === 'POST' || method === 'PUT' ? { body: new WireObject([]) } : {}) }),
  ),
);

/** The fixtures a request names, in its path and body. */
export function refsIn(request: FuzzRequest): Ref[] {
  const out: Ref[] = request.path.filter((p): p is Ref => p instanceof Ref);
  const walk = (v: Wire): void => {
    if (v instanceof Ref) out.push(v);
    else if (v instanceof Repeated) walk(v.item);
    else if (v instanceof WireObject) v.entries.forEach(([, item]) => walk(item));
    else if (Array.isArray(v)) v.forEach(walk);
  };
  if (request.body !== undefined) walk(request.body);
  return out;
}

export type { Gen };
