// Checking a body against its operation's schema, with one message that names
// the field and the value ("body.ttlMs must be a whole number, got "soon"")
// rather than zod's default wording. The first problem is reported: it is the
// one to fix, and nothing has happened.
import type { z } from 'zod';
import { BatonError } from '../errors.ts';
import { jsonProblem, pathText } from '../schema/json-value.ts';
import { requestBodies, results, type RequestBody } from './bodies.ts';
import type { OperationName } from './operations.ts';

type Issue = z.core.$ZodIssue;

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const typeNames: Record<string, string> = { int: 'a whole number', number: 'a number', string: 'a string', boolean: 'a boolean', object: 'an object', array: 'an array', null: 'null' };

const place = pathText;

/** The schema at `path` under `schema`, wrappers (optional, nullable) taken off. */
function schemaAt(schema: z.core.$ZodType, path: PropertyKey[]): z.core.$ZodType | undefined {
  const bare = (s: z.core.$ZodType): z.core.$ZodType => {
    const def = s._zod.def;
    return def.type === 'optional' || def.type === 'nullable' ? bare((def as z.core.$ZodOptionalDef).innerType) : s;
  };
  let at: z.core.$ZodType | undefined = bare(schema);
  for (const p of path) {
    const def: z.core.$ZodTypeDef = at._zod.def;
    if (def.type === 'object') at = (def as z.core.$ZodObjectDef).shape[String(p)];
    else if (def.type === 'array') at = (def as z.core.$ZodArrayDef).element;
    else if (def.type === 'record') at = (def as z.core.$ZodRecordDef).valueType;
    else return undefined;
    if (at === undefined) return undefined;
    at = bare(at);
  }
  return at;
}

/** zod says "expected number" of a string given for an integer: the schema knows it wants a whole one. */
function expected(issue: Extract<Issue, { code: 'invalid_type' }>, schema: z.core.$ZodType | undefined): string {
  if (issue.expected === 'number' && schema !== undefined) {
    const target = schemaAt(schema, issue.path);
    if (target !== undefined && (target._zod.def as { format?: string }).format === 'safeint') return typeNames.int!;
  }
  return typeNames[issue.expected] ?? issue.expected;
}

/** One issue in our words, naming where it is under `root`. */
export function describeIssue(issue: Issue, root: string, schema?: z.core.$ZodType): string {
  const at = place(root, issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined && issue.path.length > 0) return `${at} is required`;
      return `${at} must be ${expected(issue, schema)}, got ${shown(input)}`;
    case 'too_small':
      if (issue.origin === 'string') return `${at} must not be ${issue.minimum === 1 ? 'empty' : `shorter than ${issue.minimum}`}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `${at} must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      return `${at} must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, got ${shown(input)}`;
    case 'too_big':
      if (issue.origin === 'string') return `${at} is longer than ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `${at} must have at most ${issue.maximum} items`;
      return `${at} must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, got ${shown(input)}`;
    case 'invalid_value':
      return `${at} must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}, got ${shown(input)}`;
    case 'unrecognized_keys':
      return `${at} has an unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      // A tagged union (an artifact's kind) whose tag matched no branch: name the tag given.
      const tag = (issue as { discriminator?: string }).discriminator;
      if (tag !== undefined && typeof input === 'object' && input !== null) return `${at}.${tag} is not a known ${tag}: got ${shown((input as Record<string, unknown>)[tag])}`;
      // The branch that got furthest says the most; a mere type mismatch in every branch means the shape is wrong.
      const branches = issue.errors.map((branch) => branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
      const telling = branches.flat().find((i) => i.code !== 'invalid_type' || i.path.length > issue.path.length);
      return telling === undefined ? `${at} has the wrong shape: ${shown(input)}` : describeIssue(telling, root, schema);
    }
    case 'custom':
      // Our own checks (fields.ts) word their message to follow the field's name.
      return `${at} ${issue.message}`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/** The first problem with `value` as `schema` sees it, or null when it fits. */
export function problemWith(schema: z.ZodType, value: unknown, root: string): string | null {
  const checked = schema.safeParse(value, { reportInput: true });
  return checked.success ? null : describeIssue(checked.error.issues[0]!, root, schema);
}

/**
 * The request body of `name`, checked: INVALID_ARGUMENT naming the first
 * problem. First, anywhere in the body (free-form maps included, where zod
 * would silently drop it): no "__proto__" key and no lone surrogate.
 */
export function checkRequest<K extends OperationName>(name: K, input: unknown): RequestBody<K> {
  const found = jsonProblem(input);
  if (found !== null) throw new BatonError('INVALID_ARGUMENT', `${pathText('body', found.path)} ${found.problem}`);
  const schemas: { [N in OperationName]: z.ZodType<RequestBody<N>> } = requestBodies;
  const schema = schemas[name];
  const checked = schema.safeParse(input, { reportInput: true });
  if (!checked.success) throw new BatonError('INVALID_ARGUMENT', describeIssue(checked.error.issues[0]!, 'body', schema));
  return checked.data;
}

/** Why an answer does not fit its operation's published result, or null when it does. */
export function resultProblem(name: OperationName, result: unknown): string | null {
  // What the client will parse: JSON drops undefined fields.
  return problemWith(results[name], JSON.parse(JSON.stringify(result ?? null)), 'result');
}
