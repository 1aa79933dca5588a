// A request body as the fuzzer builds it: JSON, plus what JSON.stringify
// cannot say. An object is a list of entries (so `__proto__` is an own key,
// as JSON.parse makes it, and never a prototype); a number may be written as
// any JSON text (-0, 1e308, 9007199254740993); a string may be raw bytes
// (invalid UTF-8); deep nesting is a count, not a tree; a repeated item is a
// count too; and a reference to an entity of the run (a live session, a
// held lease) is resolved only when the request is sent.
import * as fc from 'fast-check';

export class WireObject {
  readonly entries: ReadonlyArray<readonly [string, Wire]>;
  constructor(entries: ReadonlyArray<readonly [string, Wire]>) {
    this.entries = entries;
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

/** A JSON number as written, e.g. `-0`, `1e308`, `9007199254740993`, `1.0`. */
export class NumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  [fc.toStringMethod](): string {
    return this.text;
  }
}

/** A string whose content is these bytes, sent as they are (between the quotes). */
export class RawString {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

/** `depth` arrays (or objects with key "a") nested in one another around `null`. */
export class Nested {
  readonly depth: number;
  readonly kind: 'array' | 'object';
  constructor(depth: number, kind: 'array' | 'object') {
    this.depth = depth;
    this.kind = kind;
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

/** An array of `count` copies of `item`: a list at or past its bound without generating each element. */
export class Repeated {
  readonly item: Wire;
  readonly count: number;
  constructor(item: Wire, count: number) {
    this.item = item;
    this.count = count;
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

/** A string of `count` copies of `unit`: a string at or past its length bound. */
export class LongString {
  readonly unit: string;
  readonly count: number;
  constructor(unit: string, count: number) {
    this.unit = unit;
    this.count = count;
  }
  get value(): string {
    return this.unit.repeat(this.count);
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

/** An entity of the run, made when the request is sent: `$session.id`, `$lease`. */
export class Ref {
  readonly fixture: string;
  readonly field: string | undefined;
  constructor(fixture: string, field?: string) {
    this.fixture = fixture;
    this.field = field;
  }
  [fc.toStringMethod](): string {
    return show(this);
  }
}

export type Wire = null | boolean | number | string | Wire[] | WireObject | NumberText | RawString | Nested | Repeated | LongString | Ref;

/** Turns references into values (Wire values themselves, or plain JSON). */
export type Resolve = (ref: Ref) => unknown;

const quote = (s: string): string => JSON.stringify(s);

/** The bytes of `value` as JSON text. References are resolved and sent as JSON.stringify writes them. */
export function encode(value: Wire, resolve: Resolve): Buffer {
  const parts: Buffer[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push(Buffer.from(text, 'utf8'));
    text = '';
  };
  const write = (v: unknown): void => {
    if (v instanceof Ref) return write(resolve(v));
    if (v instanceof RawString) {
      flush();
      parts.push(Buffer.from('"'), Buffer.from(v.bytes), Buffer.from('"'));
      return;
    }
    if (v instanceof NumberText) text += v.text;
    else if (v instanceof LongString) text += quote(v.value);
    else if (v instanceof Nested) text += v.kind === 'array' ? `${'['.repeat(v.depth)}null${']'.repeat(v.depth)}` : `${'{"a":'.repeat(v.depth)}null${'}'.repeat(v.depth)}`;
    else if (v instanceof Repeated) {
      text += '[';
      for (let i = 0; i < v.count; i++) {
        if (i > 0) text += ',';
        write(v.item);
      }
      text += ']';
    } else if (v instanceof WireObject) {
      text += '{';
      v.entries.forEach(([k, item], i) => {
        text += `${i > 0 ? ',' : ''}${quote(k)}:`;
        write(item);
      });
      text += '}';
    } else if (Array.isArray(v)) {
      text += '[';
      v.forEach((item, i) => {
        if (i > 0) text += ',';
        write(item);
      });
      text += ']';
    } else text += JSON.stringify(v === undefined ? null : v);
  };
  write(value);
  flush();
  return Buffer.concat(parts);
}

const shortString = (s: string): string => (s.length > 60 ? `${quote(s.slice(0, 40))}…(${s.length} chars)` : quote(s));

/** A readable rendering for counterexamples: JSON, with the special values named. */
export function show(value: unknown): string {
  if (value instanceof Ref) return `$${value.fixture}${value.field === undefined ? '' : `.${value.field}`}`;
  if (value instanceof NumberText) return value.text;
  if (value instanceof RawString) return `<bytes ${Buffer.from(value.bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ')}>`;
  if (value instanceof Nested) return `<${value.depth} nested ${value.kind === 'array' ? '[…]' : '{"a":…}'}>`;
  if (value instanceof Repeated) return `<${value.count} × ${show(value.item)}>`;
  if (value instanceof LongString) return `<${quote(value.unit)} × ${value.count}>`;
  if (value instanceof WireObject) return `{${value.entries.map(([k, v]) => `${shortString(k)}:${show(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  if (typeof value === 'string') return shortString(value);
  if (Object.is(value, -0)) return '-0';
  return JSON.stringify(value) ?? String(value);
}

/** About how many bytes `value` encodes to (a reference counts as 40). */
export function approximateBytes(value: Wire): number {
  if (value instanceof Ref) return 40;
  if (value instanceof LongString) return value.unit.length * value.count + 2;
  if (value instanceof Nested) return value.depth * 6;
  if (value instanceof Repeated) return value.count * (approximateBytes(value.item) + 1);
  if (value instanceof RawString) return value.bytes.length + 2;
  if (value instanceof NumberText) return value.text.length;
  if (value instanceof WireObject) return value.entries.reduce((n, [k, v]) => n + k.length + 4 + approximateBytes(v), 2);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + approximateBytes(v) + 1, 2);
  return JSON.stringify(value).length;
}
