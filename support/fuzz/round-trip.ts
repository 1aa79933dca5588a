// "Input silently changed", as an invariant: what the daemon accepted reads
// back as it was sent. After a 200, the fields an operation stores (a
// session's labels, an event's data, a task's payload, a lease's key) are
// read again through another operation and compared with the request: a
// key dropped (`__proto__`), a string turned into U+FFFD (invalid UTF-8, a
// lone surrogate), a number rounded, all fail here.
import { send, type Endpoint } from './http-client.ts';
import { Violation } from './violation.ts';
import { LongString, Nested, NumberText, RawString, Ref, Repeated, show, WireObject, type Wire } from './wire-value.ts';

type Row = Record<string, unknown>;

interface Echo {
  /** The read that returns what was stored, from the answer. */
  read(answer: Row): [operation: string, body: unknown];
  /** The stored record in that read's answer. */
  pick?(readBack: unknown, answer: Row): unknown;
  /** The record may be gone by the time it is read (a lease whose TTL ran out): then nothing is compared. */
  lapsed?(answer: Row): boolean;
  /** Request field path -> stored field path, and whether a sent value is kept as it is (else not compared). */
  fields: Array<[string[], string[], ((sent: Wire) => boolean)?]>;
}

const first = (r: unknown): unknown => (Array.isArray(r) ? r[0] : undefined);

const echoes: Record<string, Echo> = {
  register: { read: (a) => ['getSession', { sessionId: a.id }], fields: [[['name'], ['name']], [['kind'], ['kind']], [['host'], ['host']], [['labels'], ['labels']]] },
  addTask: { read: (a) => ['getTask', { id: a.id }], fields: [[['spec', 'title'], ['title']], [['spec', 'queue'], ['queue']], [['spec', 'payload'], ['payload']]] },
  updateTask: { read: (a) => ['getTask', { id: a.id }], fields: [[['patch', 'title'], ['title']], [['patch', 'payload'], ['payload']]] },
  complete: { read: (a) => ['getTask', { id: a.id }], fields: [[['result'], ['result']]] },
  publish: { read: (a) => ['events', { after: Number(a.seq) - 1, limit: 1 }], pick: first, fields: [[['type'], ['type']], [['key'], ['key']], [['actor'], ['actor']], [['data'], ['data']]] },
  // Looked up by the key the daemon answered with: a key stored changed (U+FFFD for a lone surrogate) still differs from the one sent.
  acquire: {
    read: (a) => ['getLease', { key: a.key }],
    pick: (r, a) => ((r as { holders?: Row[] }).holders ?? []).find((l) => l.token === a.token),
    lapsed: (a) => typeof a.expiresAt === 'number' && a.expiresAt <= Date.now(),
    // `path:` keys are normalized on purpose (docs/engine.md): equal path sets, equal keys.
    fields: [[['key'], ['key'], (sent) => !(typeof sent === 'string' && sent.startsWith('path:'))], [['owner'], ['owner']]],
  },
  setRateLimit: { read: (a) => ['rateLimitStatus', { key: a.key }], pick: first, fields: [[['key'], ['key']]] },
};

/** The field at `path` of a body as sent (the last entry of a name wins, as in JSON.parse). */
function sentAt(value: Wire | undefined, path: string[]): Wire | undefined {
  let at: Wire | undefined = value;
  for (const name of path) {
    if (!(at instanceof WireObject)) return undefined;
    at = at.entries.findLast(([k]) => k === name)?.[1];
  }
  return at;
}

function storedAt(value: unknown, path: string[]): unknown {
  let at: unknown = value;
  for (const name of path) at = typeof at === 'object' && at !== null && Object.hasOwn(at, name) ? (at as Row)[name] : undefined;
  return at;
}

/** The first difference between what was sent and what was stored, or undefined. */
export function difference(sent: Wire, stored: unknown, where: string, resolve: (ref: Ref) => unknown): string | undefined {
  const got = (): string => (typeof stored === 'string' ? JSON.stringify(stored.length > 60 ? `${stored.slice(0, 40)}…` : stored) : (JSON.stringify(stored)?.slice(0, 80) ?? String(stored)));
  if (sent instanceof Ref) return difference(resolve(sent) as Wire, stored, where, resolve);
  if (sent instanceof RawString) {
    const kept = typeof stored === 'string' ? Buffer.from(stored, 'utf8') : undefined;
    return kept?.equals(Buffer.from(sent.bytes)) === true ? undefined : `${where}: sent ${show(sent)}, kept ${kept === undefined ? got() : `<bytes ${kept.toString('hex')}>`}`;
  }
  if (sent instanceof LongString) return stored === sent.value ? undefined : `${where}: sent ${show(sent)}, kept ${got()}`;
  if (sent instanceof NumberText) return stored === Number(JSON.parse(sent.text)) ? undefined : `${where}: sent ${sent.text}, kept ${got()}`;
  if (sent instanceof Nested) {
    let at: unknown = stored;
    for (let i = 0; i < sent.depth; i++) {
      const next: unknown = sent.kind === 'array' ? (Array.isArray(at) && at.length === 1 ? at[0] : undefined) : typeof at === 'object' && at !== null && !Array.isArray(at) && Object.keys(at).length === 1 ? (at as Row).a : undefined;
      if (next === undefined) return `${where}: sent ${show(sent)}, kept something else at depth ${i}`;
      at = next;
    }
    return at === null ? undefined : `${where}: sent ${show(sent)}, kept something else at its bottom`;
  }
  if (sent instanceof Repeated) {
    if (!Array.isArray(stored) || stored.length !== sent.count) return `${where}: sent ${show(sent)}, kept ${got()}`;
    return stored.map((s, i) => difference(sent.item, s, `${where}[${i}]`, resolve)).find((d) => d !== undefined);
  }
  if (sent instanceof WireObject) {
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return `${where}: sent an object, kept ${got()}`;
    const entries = new Map(sent.entries);
    for (const key of entries.keys()) if (!Object.hasOwn(stored, key)) return `${where}: the key ${JSON.stringify(key)} was dropped (kept ${got()})`;
    for (const key of Object.keys(stored)) if (!entries.has(key)) return `${where}: gained the key ${JSON.stringify(key)}`;
    for (const [key, value] of entries) {
      const d = difference(value, (stored as Row)[key], `${where}.${key}`, resolve);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return `${where}: sent ${show(sent)}, kept ${got()}`;
    return sent.map((s, i) => difference(s, stored[i], `${where}[${i}]`, resolve)).find((d) => d !== undefined);
  }
  return stored === sent ? undefined : `${where}: sent ${show(sent)}, kept ${got()}`;
}

/** After a 200 to `operation`, reads back what it stored and throws a Violation where it differs from `body`. */
export async function checkRoundTrip(endpoint: Endpoint, operation: string, body: Wire | undefined, answerText: string, resolve: (ref: Ref) => unknown, deadlineMs: number): Promise<void> {
  const echo = echoes[operation];
  if (echo === undefined) return;
  const answer = JSON.parse(answerText) as Row;
  const [readOp, readBody] = echo.read(answer);
  const outcome = await send(endpoint, { method: 'POST', path: `/v1/${readOp}`, headers: [], body: Buffer.from(JSON.stringify(readBody)) }, deadlineMs);
  if (outcome.kind !== 'answer' || outcome.status !== 200) {
    throw new Violation(`${operation} answered 200, then reading it back (${readOp} ${JSON.stringify(readBody)}) got ${outcome.kind === 'answer' ? `${outcome.status} ${outcome.text.slice(0, 300)}` : outcome.kind}`);
  }
  const readBack = JSON.parse(outcome.text) as unknown;
  const stored = echo.pick === undefined ? readBack : echo.pick(readBack, answer);
  if (stored === undefined && echo.lapsed?.(answer) === true) return;
  if (stored === undefined) throw new Violation(`${operation} answered 200 (${answerText.slice(0, 200)}), but ${readOp} does not list what it stored`);
  for (const [from, to, kept] of echo.fields) {
    const sent = sentAt(body, from);
    if (sent === undefined || kept?.(sent) === false) continue;
    const d = difference(sent, storedAt(stored, to), `body.${from.join('.')}`, resolve);
    if (d !== undefined) throw new Violation(`input silently changed: ${operation} answered 200, and ${readOp} reads back ${d}`);
  }
}
