// fast-check arbitraries built from a JSON Schema (2020-12, as the daemon
// publishes it in /v1/openapi.json): objects with their required and optional
// fields, strings and numbers at their bounds, enums, arrays, anyOf and
// free-form maps. Each value comes with the reasons the daemon must refuse it
// (`refusals`): with mutation on, any node may be replaced by one the schema
// forbids (the wrong type, a size or number past its bound, an unknown or
// dangerous field name, a missing required field), and a free-form map that
// holds `__proto__` must be refused wherever it is.
import * as fc from 'fast-check';
import { MAX_JSON_DEPTH } from '../../src/limits.ts';
import { dangerousNames, depthOf, freeJson, freeKey, holdsUnholdable, integerWithin, MAX_SAFE, numberWithin, stringWithin, unholdableName } from './edge-values.ts';
import { approximateBytes, LongString, NumberText, Repeated, WireObject, type Wire } from './wire-value.ts';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[] | undefined;
}

/** A generated value and why the daemon must refuse it (empty: it may accept it). */
export interface Gen {
  value: Wire;
  refusals: string[];
}

/** Where a node sits: the operation and the field path under the body (`[]` for an array's items). */
export interface At {
  operation: string;
  path: string[];
}

export interface Build {
  /** #/components/schemas of the document, for $ref. */
  components: Record<string, JsonSchema>;
  /** Weight of a mutation at each node against 8 for a fitting value; 0 for none. */
  mutate: number;
  /** Replaces a node's arbitrary (references to the run's entities, hostile paths); `schema` is the node's own. */
  hook?: (at: At, schema: () => fc.Arbitrary<Gen>) => fc.Arbitrary<Gen> | undefined;
}

const ok = (value: Wire): Gen => ({ value, refusals: [] });
const unholdable = (at: At): string => `${place(at)} holds the key "${unholdableName}"`;
/** A free-form JSON field nests at most MAX_JSON_DEPTH deep (the field itself counts). */
const tooDeep = (at: At, value: Wire): string[] => (depthOf(value) > MAX_JSON_DEPTH ? [`${place(at)} nests deeper than ${MAX_JSON_DEPTH} levels`] : []);

const place = (at: At): string => ['body', ...at.path].join('.').replace(/\.\[\]/g, '[]');
const refused = (at: At, why: string) => (value: Wire): Gen => ({ value, refusals: [`${place(at)} ${why}`] });
const child = (at: At, name: string): At => ({ operation: at.operation, path: [...at.path, name] });

function resolve(schema: JsonSchema, build: Build): JsonSchema {
  // A tagged union (z.discriminatedUnion) is published as oneOf; its branches differ in the tag, so any of them fits.
  if (schema.oneOf !== undefined && schema.anyOf === undefined) return resolve({ ...schema, anyOf: schema.oneOf, oneOf: undefined }, build);
  const ref = schema.$ref;
  if (ref === undefined) return schema;
  const target = build.components[ref.replace('#/components/schemas/', '')];
  if (target === undefined) throw new Error(`unresolved ${ref}`);
  return resolve(target, build);
}

const typesOf = (schema: JsonSchema, build: Build): string[] => {
  const s = resolve(schema, build);
  if (s.anyOf !== undefined) return s.anyOf.flatMap((b) => typesOf(b, build));
  if (s.type === undefined) return s.const === null ? ['null'] : s.enum !== undefined ? ['string'] : ['any'];
  return Array.isArray(s.type) ? s.type : [s.type];
};

/** A value of each JSON type, to put where another type is wanted. */
const samples: Record<string, Wire[]> = {
  string: ['5', '', 'true'],
  integer: [5, 0, -1],
  number: [0.5],
  boolean: [true, false],
  null: [null],
  array: [[], [1]],
  object: [new WireObject([]), new WireObject([['a', 1]])],
};

/** `also`: types another branch of an enclosing anyOf accepts here (a null where `pid` is an integer or null is no mistake). */
function wrongType(schema: JsonSchema, build: Build, at: At, also: readonly string[]): fc.Arbitrary<Gen> | undefined {
  const wanted = [...typesOf(schema, build), ...also];
  if (wanted.includes('any')) return undefined;
  const accepts = (t: string): boolean => wanted.includes(t) || (t === 'integer' && wanted.includes('number'));
  const others = Object.entries(samples).filter(([t]) => !accepts(t)).flatMap(([t, values]) => values.map((v) => [t, v] as const));
  if (others.length === 0) return undefined;
  return fc.constantFrom(...others).map(([t, v]) => refused(at, `is ${t} where ${wanted.join(' or ')} is wanted`)(v));
}

function objectOf(schema: JsonSchema, build: Build, at: At): fc.Arbitrary<Gen> {
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const fields = props.map(([name, s]) => {
    const arb = genFor(s, build, child(at, name)).map((g) => [name, g] as const);
    return required.has(name) ? arb : fc.option(arb, { nil: undefined, freq: 3 });
  });
  return fc.tuple(...fields).map((present) => {
    const kept = present.filter((f) => f !== undefined);
    const refusals = kept.flatMap(([, g]) => g.refusals);
    // "Exactly one of these fields" (a message's `to`): too few or too many is a refusal of its own.
    const min = schema.minProperties ?? 0;
    const max = schema.maxProperties ?? Infinity;
    if (kept.length < min || kept.length > max) refusals.push(`${place(at)} has ${kept.length} fields, where ${min} to ${max} are allowed`);
    return { value: new WireObject(kept.map(([n, g]) => [n, g.value])), refusals };
  });
}

/** A map with keys of its own (labels, data): ordinary and dangerous names; `__proto__` anywhere must be refused. */
function freeMapOf(valueSchema: JsonSchema | undefined, build: Build, at: At): fc.Arbitrary<Gen> {
  const values = valueSchema === undefined ? freeJson.map(ok) : genFor(valueSchema, build, child(at, '*'));
  return fc.array(fc.tuple(freeKey, values), { maxLength: 5 }).map((entries) => {
    const value = new WireObject(entries.map(([k, g]) => [k, g.value]));
    // Of a key given twice JSON.parse keeps the last value: what an earlier one would have broken is gone.
    const refusals = [...new Map(entries).values()].flatMap((g) => g.refusals);
    if (holdsUnholdable(value)) refusals.push(unholdable(at));
    refusals.push(...tooDeep(at, value));
    return { value, refusals };
  });
}

function fitting(schema: JsonSchema, build: Build, at: At): fc.Arbitrary<Gen> {
  if (schema.anyOf !== undefined) {
    const all = typesOf(schema, build);
    return fc.oneof(...schema.anyOf.map((b) => genFor(b, build, at, all)));
  }
  if (schema.const !== undefined) return fc.constant(ok(schema.const as Wire));
  if (schema.enum !== undefined) return fc.constantFrom(...(schema.enum as Wire[])).map(ok);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case undefined:
      // Any JSON value: `__proto__` anywhere in it must be refused.
      return freeJson.map((value) => ({ value, refusals: [...(holdsUnholdable(value) ? [unholdable(at)] : []), ...tooDeep(at, value)] }));
    case 'object':
      if (schema.properties !== undefined && Object.keys(schema.properties).length > 0) return objectOf(schema, build, at);
      if (schema.additionalProperties === false) return fc.constant(ok(new WireObject([])));
      return freeMapOf(schema.additionalProperties === true ? undefined : schema.additionalProperties, build, at);
    case 'string': {
      // A patterned string (a project name, a commit sha): strings the pattern makes, within the lengths.
      if (schema.pattern !== undefined) {
        return fc.stringMatching(new RegExp(schema.pattern)).filter((v) => v.length >= (schema.minLength ?? 0) && v.length <= (schema.maxLength ?? Infinity)).map(ok);
      }
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 4096;
      const within = stringWithin(min, max).map(ok);
      if (schema.maxLength === undefined) return within;
      return fc.oneof({ weight: 5, arbitrary: within }, { weight: 1, arbitrary: fc.constant(ok(new LongString('a', max))) });
    }
    case 'integer':
      return integerWithin(schema.minimum ?? -MAX_SAFE, schema.maximum ?? MAX_SAFE).map(ok);
    case 'number':
      return numberWithin(schema.exclusiveMinimum, schema.minimum, schema.maximum).map(ok);
    case 'boolean':
      return fc.boolean().map(ok);
    case 'null':
      return fc.constant(ok(null));
    case 'array': {
      const min = schema.minItems ?? 0;
      const items = schema.items === undefined ? freeJson.map(ok) : genFor(schema.items, build, child(at, '[]'));
      return fc.array(items, { minLength: min, maxLength: Math.max(min, Math.min(schema.maxItems ?? 3, 3)) }).map((gs) => ({ value: gs.map((g) => g.value), refusals: gs.flatMap((g) => g.refusals) }));
    }
    default:
      throw new Error(`${place(at)}: no generator for type ${type}`);
  }
}

/** Values the schema forbids at this node, each with its reason. */
function mutations(schema: JsonSchema, build: Build, at: At, also: readonly string[]): Array<fc.Arbitrary<Gen>> {
  const out: Array<fc.Arbitrary<Gen>> = [];
  const wrong = wrongType(schema, build, at, also);
  if (wrong !== undefined) out.push(wrong);
  if (schema.anyOf !== undefined) return out;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (schema.enum !== undefined) out.push(fc.constantFrom<Wire>('', 'EXCLUSIVE', 'other', `${String(schema.enum[0])} `).filter((v) => !schema.enum!.includes(v)).map(refused(at, 'is not one of its values')));
  else if (type === 'string') {
    if (schema.maxLength !== undefined) out.push(fc.constantFrom('a', 'é').map((u) => refused(at, `is ${schema.maxLength! + 1} long, past maxLength ${schema.maxLength}`)(new LongString(u, schema.maxLength! + 1))));
    if ((schema.minLength ?? 0) > 0) out.push(fc.constant(refused(at, `is shorter than minLength ${schema.minLength}`)(new LongString('a', schema.minLength! - 1))));
  } else if (type === 'integer' || type === 'number') {
    const min = schema.minimum;
    const max = schema.maximum;
    const past: Array<[Wire, string]> = [
      [new NumberText('1e400'), 'is not a finite number'],
      [new NumberText('-1e400'), 'is not a finite number'],
    ];
    if (min !== undefined) past.push([min - 1 < -MAX_SAFE ? new NumberText('-9007199254740993') : min - 1, `is below minimum ${min}`], [-1e308, `is below minimum ${min}`]);
    if (schema.exclusiveMinimum !== undefined) past.push([schema.exclusiveMinimum, `is not above ${schema.exclusiveMinimum}`], [new NumberText('-0'), `is not above ${schema.exclusiveMinimum}`], [-Number.MIN_VALUE, `is not above ${schema.exclusiveMinimum}`]);
    if (max !== undefined) past.push([max + 1 > MAX_SAFE ? new NumberText('9007199254740992') : max + 1, `is above maximum ${max}`], [1e308, `is above maximum ${max}`], [new NumberText('18446744073709551616'), `is above maximum ${max}`]);
    if (type === 'integer') {
      const inside = Math.max(min ?? 0, 0);
      past.push([inside + 0.5, 'is not a whole number'], [new NumberText(`${inside}.000001`), 'is not a whole number'], [new NumberText('1e-7'), 'is not a whole number']);
    }
    out.push(fc.constantFrom(...past).map(([v, why]) => refused(at, why)(v)));
  } else if (type === 'array') {
    const items = schema.items;
    // A small item, so the list is past its bound in count rather than far past the body limit in bytes.
    if (schema.maxItems !== undefined && items !== undefined) out.push(fitting(resolve(items, build), build, child(at, '[]')).filter((g) => g.refusals.length === 0 && approximateBytes(g.value) < 300).map((g) => refused(at, `has ${schema.maxItems! + 1} items, past maxItems ${schema.maxItems}`)(new Repeated(g.value, schema.maxItems! + 1))));
    if ((schema.minItems ?? 0) > 0) out.push(fc.constant(refused(at, `has fewer than ${schema.minItems} items`)([])));
  } else if (type === 'object' && schema.properties !== undefined && schema.additionalProperties === false) {
    const names = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...dangerousNames) }, { weight: 1, arbitrary: fc.constantFrom('unknownField', '', 'Key', 'ttl_ms') });
    const known = Object.keys(schema.properties);
    out.push(
      fc.tuple(objectOf(schema, { ...build, mutate: 0 }, at), names.filter((n) => !known.includes(n)), freeJson, fc.nat()).map(([g, name, v, i]) => {
        const entries = [...(g.value as WireObject).entries];
        entries.splice(i % (entries.length + 1), 0, [name, v]);
        return { value: new WireObject(entries), refusals: [...g.refusals, `${place(at)} has the unknown field "${name}"`] };
      }),
    );
    const required = schema.required ?? [];
    if (required.length > 0) {
      out.push(
        fc.tuple(objectOf(schema, { ...build, mutate: 0 }, at), fc.constantFrom(...required)).map(([g, name]) => ({
          value: new WireObject((g.value as WireObject).entries.filter(([k]) => k !== name)),
          refusals: [...g.refusals, `${place(at)} lacks the required field "${name}"`],
        })),
      );
    }
  }
  return out;
}

/** The arbitrary of one schema node: a fitting value, or (with mutation on) sometimes one it forbids. `also`: see wrongType. */
export function genFor(schema: JsonSchema, build: Build, at: At, also: readonly string[] = []): fc.Arbitrary<Gen> {
  const s = resolve(schema, build);
  const own = (): fc.Arbitrary<Gen> => {
    const fit = fitting(s, build, at);
    const bad = build.mutate > 0 ? mutations(s, build, at, also) : [];
    return bad.length === 0 ? fit : fc.oneof({ weight: 8, arbitrary: fit }, { weight: build.mutate, arbitrary: fc.oneof(...bad) });
  };
  return build.hook?.(at, own) ?? own();
}
