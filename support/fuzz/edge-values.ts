// The values hostile input is made of: names that mean something to a
// JavaScript object, strings that mean something to a shell, a path or a
// database, numbers at and past the edges of a double, and free-form JSON
// built from them (with deep nesting).
import * as fc from 'fast-check';
import { LongString, Nested, NumberText, Repeated, WireObject, type Wire } from './wire-value.ts';

/** Names every plain object inherits, and the one that is its prototype. */
export const dangerousNames = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'prototype', 'isPrototypeOf'] as const;

/** The one name a plain object cannot hold as data: assigning it sets the prototype. Refused wherever it appears. */
export const unholdableName = '__proto__';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Strings with a meaning somewhere downstream: NUL, lone surrogates, line breaks, path steps, options, globs, percent signs. */
const specialStrings = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'a\udfffb', '\r\n', '\n', '\t', '\u202e', '\ufeff', 'é', '😀', 'ﬀ', '\u0085',
  '..', '../x', '/', '/etc/passwd', '~', '-x', '--', '%', '%00', '%E0%A4%A', '*', '**', '?', '[', '\\', ':', 'path:', 'path:../x', 'git', 'repo',
  'null', 'true', '0', '-1', '1e308', 'NaN', '{}', "'", '"', '$(id)', '`id`', ';', '|', '<script>',
];

/** A string within [min, max] code units: short random text (any code point) or a special one, or one at the length bounds. */
export function stringWithin(min: number, max: number): fc.Arbitrary<string> {
  const short = Math.min(max, Math.max(min, 12));
  const options: Array<fc.WeightedArbitrary<string>> = [
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: short, unit: 'grapheme-ascii' }) },
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: short, unit: 'binary' }) },
  ];
  const fitting = specialStrings.filter((s) => s.length >= min && s.length <= max);
  if (fitting.length > 0) options.push({ weight: 3, arbitrary: fc.constantFrom(...fitting) });
  return fc.oneof(...options);
}

/** An integer in [min, max], most often at or next to a bound, sometimes written as `-0`, `1.0` or `1e3`. */
export function integerWithin(min: number, max: number): fc.Arbitrary<Wire> {
  const edges = [...new Set([min, max, min + 1, max - 1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32])].filter((n) => n >= min && n <= max);
  const spelled: Array<fc.Arbitrary<Wire>> = [];
  if (min <= 0 && max >= 0) spelled.push(fc.constant(new NumberText('-0')));
  if (min <= 1000 && max >= 1000) spelled.push(fc.constant(new NumberText('1e3')));
  if (min <= 1 && max >= 1) spelled.push(fc.constant(new NumberText('1.0')));
  const small = fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) });
  // Past 32 bits, fc.integer cannot go: a safe integer scaled into the range.
  const large = fc.maxSafeNat().map((n) => min + (n % (max - min + 1)));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...edges) },
    { weight: 3, arbitrary: small },
    ...(max - min > 2 ** 32 ? [{ weight: 1, arbitrary: large }] : []),
    ...(spelled.length > 0 ? [{ weight: 1, arbitrary: fc.oneof(...spelled) }] : []),
  );
}

/** A number above `exclusiveMin` (and within max when there is one), often at the edges of a double. */
export function numberWithin(exclusiveMin: number | undefined, min: number | undefined, max: number | undefined): fc.Arbitrary<Wire> {
  const low = min ?? -Number.MAX_VALUE;
  const high = max ?? Number.MAX_VALUE;
  const fits = (n: number): boolean => n >= low && n <= high && (exclusiveMin === undefined || n > exclusiveMin);
  const edges = [Number.MIN_VALUE, 1e-300, 0.1, 0.5, 1, 2, 100, 1e9, MAX_SAFE, 2 ** 53 + 2, 1e300, 1e308, Number.MAX_VALUE, -1, -1e308, 0, low, high].filter(fits);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...edges) },
    { weight: 2, arbitrary: fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true }).filter(fits) },
  );
}

/** Keys of free-form maps: ordinary ones and the dangerous names. */
export const freeKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(...dangerousNames) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a.b', 'a[0]', '$where', '\u0000', '\ud800', 'é') },
);

/** A number of any JSON spelling and size. */
export const anyNumber: fc.Arbitrary<Wire> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom<Wire>(MAX_SAFE, -MAX_SAFE, 1e308, -1e308, Number.MIN_VALUE, 0.1, new NumberText('-0'), new NumberText('9007199254740993'), new NumberText('1e400'), new NumberText('1E+2'), new NumberText('123456789012345678901234567890')),
);

/** Deep nesting: past any sensible depth limit, and well within the 1 MiB body limit. */
export const deepNesting: fc.Arbitrary<Wire> = fc.tuple(fc.constantFrom(32, 64, 65, 100, 1000, 5000, 20000, 100000), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([depth, kind]) => new Nested(depth, kind));

/** Any JSON value, with dangerous keys at every level and, sometimes, deep nesting. */
export const freeJson: fc.Arbitrary<Wire> = fc.letrec<{ value: Wire; object: WireObject }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: fc.oneof(fc.constant(null), fc.boolean(), anyNumber, stringWithin(0, 64)) },
    { weight: 2, arbitrary: tie('object') },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: deepNesting },
  ),
  object: fc.array(fc.tuple(freeKey, tie('value')), { maxLength: 4 }).map((entries) => new WireObject(entries)),
})).value;

/** Whether `value` holds the unholdable name as a key anywhere. */
export function holdsUnholdable(value: Wire): boolean {
  // The name itself stays however often it is given; of its values (and any name's), only the last is parsed.
  if (value instanceof WireObject) return value.entries.some(([k]) => k === unholdableName) || parsedEntries(value).some(([, v]) => holdsUnholdable(v));
  if (Array.isArray(value)) return value.some(holdsUnholdable);
  return false;
}

/** The entries JSON.parse keeps: of a name given twice, the last. */
function parsedEntries(value: WireObject): ReadonlyArray<readonly [string, Wire]> {
  return [...new Map(value.entries).entries()];
}

/** What a Wire value holds, walked once: used by the rules the daemon applies to a whole body, beyond any schema. */
function some(value: Wire, test: (leaf: Wire, key?: string) => boolean): boolean {
  if (value instanceof WireObject) return parsedEntries(value).some(([k, v]) => test(v, k) || some(v, test));
  if (Array.isArray(value)) return value.some((v) => some(v, test));
  if (value instanceof Repeated) return some(value.item, test);
  return test(value);
}

/** Whether a string or key in `value` is not well-formed Unicode (a lone surrogate): refused anywhere in a body. */
export function holdsLoneSurrogate(value: Wire): boolean {
  return some(value, (leaf, key) => (key !== undefined && !key.isWellFormed()) || (typeof leaf === 'string' && !leaf.isWellFormed()) || (leaf instanceof LongString && !leaf.unit.isWellFormed()));
}

/** Whether a number in `value` is written past a double (1e400 parses to Infinity): refused anywhere in a body. */
export function holdsNonFinite(value: Wire): boolean {
  return some(value, (leaf) => leaf instanceof NumberText && !Number.isFinite(Number(leaf.text)));
}

/** How deep `value` nests: a scalar is 0, `{}` and `[]` are 1, a Nested is its depth. */
export function depthOf(value: Wire): number {
  if (value instanceof Nested) return value.depth;
  if (value instanceof WireObject) return 1 + Math.max(0, ...parsedEntries(value).map(([, v]) => depthOf(v)));
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value instanceof Repeated) return 1 + depthOf(value.item);
  return 0;
}
