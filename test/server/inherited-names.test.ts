// Every operation refuses, at every nesting level of its request, a field
// named after an inherited property (constructor, toString, __proto__, ...),
// through the real daemon, and nothing changes. Levels are found by walking
// each request's JSON Schema, so a new operation or field is covered as it
// comes. Free-form maps (labels, an event's data) and any-JSON fields
// (payload, result) take any own key but "__proto__": an own "__proto__"
// turns into a prototype wherever a value is copied by assignment, and zod
// silently dropped it from maps.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { requestBodies } from '../../src/protocol/bodies.ts';
import { operationNames } from '../../src/protocol/operations.ts';
import { checkRequest } from '../../src/protocol/validation.ts';
import { startDaemon } from '../../support/daemon.ts';
import { errorOf, post } from '../helpers/socket-http.ts';
import { tempDir } from '../helpers/procs.ts';

/** Every name an object inherits: constructor, toString, valueOf, hasOwnProperty, __defineGetter__, __proto__, ... */
const inherited = Object.getOwnPropertyNames(Object.prototype);
/** What an attacker would hope to see inherited. */
const poison = { polluted: true, ttlMs: 1, owner: 'mallory' };

type Schema = { [k: string]: unknown; type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; anyOf?: Schema[]; additionalProperties?: Schema | boolean };
type Path = Array<string | number>;
/** A place where an object sits in a request: declared fields, a free-form map, or any JSON. */
interface Level {
  path: Path;
  kind: 'declared' | 'map' | 'any';
}

/** The smallest value the schema takes. */
function sample(s: Schema): unknown {
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (s.anyOf !== undefined) return sample(s.anyOf.find((o) => o.type !== 'null') ?? s.anyOf[0]!);
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? []) out[name] = sample(s.properties![name]!);
      // An object that needs some field but names none required (exactly one of several): the first.
      const first = Object.keys(s.properties ?? {})[0];
      if (Object.keys(out).length < Number(s.minProperties ?? 0) && first !== undefined) out[first] = sample(s.properties![first]!);
      return out;
    }
    case 'array':
      return Array.from({ length: Number(s.minItems ?? 0) }, () => sample(s.items!));
    case 'string':
      return 'a'.repeat(Math.max(1, Number(s.minLength ?? 1)));
    case 'integer':
      return Math.max(1, Number(s.minimum ?? 1));
    case 'number':
      return s.minimum !== undefined ? Number(s.minimum) : Number(s.exclusiveMinimum ?? 0) + 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return null; // any JSON
  }
}

/** Every level under `s`, following declared fields (optional ones too), array items and union members. */
function levels(s: Schema, path: Path = [], out: Level[] = []): Level[] {
  if (s.anyOf !== undefined) {
    for (const option of s.anyOf) levels(option, path, out);
  } else if (s.type === 'object' && s.properties !== undefined) {
    out.push({ path, kind: 'declared' });
    for (const [name, field] of Object.entries(s.properties)) levels(field, [...path, name], out);
  } else if (s.type === 'object' && typeof s.additionalProperties === 'object') {
    out.push({ path, kind: 'map' });
    if (s.additionalProperties.type === undefined) out.push({ path: [...path, 'value'], kind: 'any' });
  } else if (s.type === 'array' && s.items !== undefined) {
    levels(s.items, [...path, 0], out);
  } else if (s.type === undefined && s.const === undefined && s.enum === undefined) {
    out.push({ path, kind: 'any' });
  }
  return out;
}

/** The schema at `path` under `s` (through unions: the first member that has it). */
function schemaAt(s: Schema, path: Path): Schema | undefined {
  if (path.length === 0) return s;
  if (s.anyOf !== undefined) {
    for (const option of s.anyOf) {
      const found = schemaAt(option, path);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const [head, ...rest] = path;
  if (typeof head === 'number') return s.items === undefined ? undefined : schemaAt(s.items, rest);
  const next = s.properties?.[head!] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  return next === undefined ? undefined : schemaAt(next, rest);
}

/** An own, enumerable property, even `__proto__` (an assignment would set the prototype instead). */
function own(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** `base` with `name` set at `level` (making the objects on the way from the schema where the base has none). */
function withName(schema: Schema, base: unknown, level: Level, name: string): unknown {
  const body = structuredClone(base) as Record<string, unknown>;
  let at: Record<string, unknown> | unknown[] = body;
  for (let i = 0; i < level.path.length; i++) {
    const step = level.path[i]!;
    const container = at as Record<string | number, unknown>;
    if (typeof container[step] !== 'object' || container[step] === null) {
      // An optional object or an array with no items yet: made from its schema, or {} where any JSON goes.
      const here = schemaAt(schema, level.path.slice(0, i + 1));
      const made = here === undefined ? undefined : sample(here);
      container[step] = typeof made === 'object' && made !== null ? made : {};
    }
    if (Array.isArray(container[step]) && (container[step] as unknown[]).length === 0) (container[step] as unknown[]).push({});
    at = container[step] as Record<string, unknown>;
  }
  if (level.kind === 'any') {
    // Any JSON: the name one level down and deeper still, inside an array.
    const value: Record<string, unknown> = { ok: 1, list: [{}] };
    own(value, name, poison);
    own((value.list as Array<Record<string, unknown>>)[0]!, name, poison);
    const parent = level.path.length === 0 ? undefined : level.path.at(-1);
    if (parent === undefined) return value;
    let holder: Record<string | number, unknown> = body;
    for (const step of level.path.slice(0, -1)) holder = holder[step] as Record<string | number, unknown>;
    holder[parent] = value;
    return body;
  }
  own(at as Record<string, unknown>, name, poison);
  return body;
}

async function snapshot(client: ReturnType<Awaited<ReturnType<typeof startDaemon>>['client']>, root: string): Promise<unknown> {
  return {
    events: await client.events({ after: 0, limit: 100_000 }),
    leases: await client.listLeases(),
    sessions: await client.listSessions({ includeEnded: true }),
    tasks: await client.listTasks({}),
    budgets: await client.budgetStatus(),
    usage: await client.usage(),
    rates: await client.rateLimitStatus(),
    files: readdirSync(root).sort(),
  };
}

test('every operation refuses an inherited name at every level of its request, and nothing changes', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const client = daemon.client();
  const before = await snapshot(client, dir);

  let sent = 0;
  for (const name of operationNames) {
    const schema = z.toJSONSchema(requestBodies[name], { unrepresentable: 'any', io: 'input' }) as Schema;
    const base = sample(schema);
    assert.doesNotThrow(() => checkRequest(name, base), `the sample body of ${name} fits its schema: ${JSON.stringify(base)}`);
    const found = levels(schema);
    assert.ok(found.some((l) => l.path.length === 0 && l.kind === 'declared'), `${name}: its body is an object of declared fields`);
    for (const level of found) {
      // Maps and any JSON take ordinary names as data (below); only __proto__ is refused there.
      const names = level.kind === 'declared' ? inherited : ['__proto__'];
      for (const field of names) {
        const body = withName(schema, base, level, field);
        const answer = await post(socket, name, JSON.stringify(body));
        sent++;
        const error = errorOf(answer);
        const where = `${name} with ${JSON.stringify(field)} at body${level.path.map((p) => `.${p}`).join('')} (${level.kind}): ${answer.status} ${answer.body}`;
        assert.equal(answer.status, 400, where);
        assert.equal(error?.code, 'INVALID_ARGUMENT', where);
        assert.ok(error.message.includes(field), `the refusal names the field: ${where}`);
      }
    }
  }
  assert.ok(sent > operationNames.length * inherited.length, `${sent} requests`);
  t.diagnostic(`${sent} refused requests over ${operationNames.length} operations`);
  assert.deepEqual(await snapshot(client, dir), before, 'no refused request changed anything');
});

test('free-form maps take inherited names as plain own keys, and give them back as sent', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const names = inherited.filter((n) => n !== '__proto__');
  const labels = Object.fromEntries(names.map((n) => [n, `label ${n}`]));
  const data = Object.fromEntries(names.map((n) => [n, { [n]: [n] }]));

  const session = await post(socket, 'register', { name: 'maps', labels });
  assert.equal(session.status, 200, session.body);
  assert.deepEqual((session.json as { labels: unknown }).labels, labels);
  const event = await post(socket, 'publish', { type: 'maps.checked', data });
  assert.equal(event.status, 200, event.body);
  assert.deepEqual((event.json as { data: unknown }).data, data);
  const task = await post(socket, 'addTask', { spec: { title: 'maps', payload: data } });
  assert.equal(task.status, 200, task.body);
  assert.deepEqual((task.json as { payload: unknown }).payload, data);
  // Read back from the store, not echoed: nothing inherited, nothing lost.
  const stored = await daemon.client().getSession((session.json as { id: string }).id);
  assert.deepEqual(Object.keys(stored.labels).sort(), names.sort());
  assert.equal(Object.getPrototypeOf(stored.labels), Object.prototype);
});
