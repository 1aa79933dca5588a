// Path patterns parsed: lexed, normalized, brace-expanded and compiled to
// alternatives of segments, which path-match.ts compares. The rules they
// implement are in paths.ts.
//
// Syntax:
//   *       any run of characters inside one segment (never '/'), also empty
//   ?       exactly one character (not '/')
//   [abc] [a-z] [!a] [^a]
//           one character of a class; ']' right after '[' / '[!' is a member;
//           a class may not contain '/' and a range may not be reversed
//   **      as a whole segment (or any run of 2+ '*' filling a segment):
//           zero or more segments
//   {a,b}   alternatives, expanded before matching; may nest, may contain
//           wildcards and '/'; `{}` and `{a}` are groups with one alternative
//   \x      the character x literally (`\/` is just a separator)
// Dotfiles are not special: `*` matches `.env`. Matching is case-sensitive.
// Literal '[', ']', '{', '}', ',' inside braces, '*', '?' and '\' must be
// escaped; an unmatched '}' is an error like an unmatched '{'.
//
// Normalization strips leading './', drops inner '.' segments, collapses '//'
// and drops a trailing '/'. It rejects (INVALID_ARGUMENT) empty patterns,
// absolute paths (leading '/' or a Windows drive like `C:/`), '..' segments,
// NUL bytes, unbalanced '[' / '{' / '}', a dangling '\', braces nested deeper
// than MAX_BRACE_DEPTH, and brace expansions of more than MAX_ALTERNATIVES.

import { BatonError } from '../errors.ts';
import { MAX_PATH_LENGTH } from '../limits.ts';

export const MAX_BRACE_DEPTH = 8;
export const MAX_ALTERNATIVES = 256;

// ---------------------------------------------------------------------------
// Lexing

export type ClassTok = { k: 'class'; neg: boolean; ranges: Array<[number, number]>; raw: string };
export type CharTok = { k: 'lit'; ch: string; raw: string } | { k: 'any' } | ClassTok;
export type SegTok = CharTok | { k: 'star' };
type Tok = SegTok | { k: 'sep' } | { k: 'open' } | { k: 'comma' } | { k: 'close' };

/** A segment is either a globstar or a non-empty list of tokens matching one name. */
export type Segment = { gs: true; key: string } | { gs: false; toks: SegTok[]; key: string };
export type Compiled = { normalized: string; alts: Segment[][] };

function invalid(value: unknown, reason: string, what = 'path pattern'): BatonError {
  return new BatonError('INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(value)}: ${reason}`, { details: { [what === 'path' ? 'path' : 'pattern']: value } });
}

function checkBasics(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw invalid(value, 'must be a string', what);
  if (value.length === 0) throw invalid(value, 'is empty', what);
  if (value.length > MAX_PATH_LENGTH) throw invalid(value, `is longer than ${MAX_PATH_LENGTH} characters`, what);
  if (value.includes('\0')) throw invalid(value, 'contains a NUL byte', what);
  if (isAbsolutePath(value)) throw invalid(value, `${value.startsWith('/') ? 'is absolute' : 'is an absolute Windows path'}; use a path relative to the project root`, what);
}

/**
 * The one rule for "absolute" that every surface applies to a path given as
 * relative to the project root: a leading '/', or a Windows drive (`C:`,
 * `C:/...`, `C:\\...`). (A leading '\\' is an escape in a pattern, not a root.)
 */
export function isAbsolutePath(value: string): boolean {
  return value.startsWith('/') || /^[A-Za-z]:([\\/]|$)/.test(value);
}

function lex(pattern: string): Tok[] {
  const chars = Array.from(pattern);
  const out: Tok[] = [];
  let depth = 0;
  let i = 0;
  for (let c = chars[i]; c !== undefined; c = chars[i]) {
    if (c === '\\') {
      const e = chars[i + 1];
      if (e === undefined) throw invalid(pattern, "ends with a dangling '\\'");
      out.push(e === '/' ? { k: 'sep' } : { k: 'lit', ch: e, raw: '\\' + e });
      i += 2;
    } else if (c === '/') {
      out.push({ k: 'sep' });
      i++;
    } else if (c === '*') {
      out.push({ k: 'star' });
      i++;
    } else if (c === '?') {
      out.push({ k: 'any' });
      i++;
    } else if (c === '[') {
      i = lexClass(pattern, chars, i, out);
    } else if (c === '{') {
      depth++;
      if (depth > MAX_BRACE_DEPTH) throw invalid(pattern, `braces are nested deeper than ${MAX_BRACE_DEPTH} levels`);
      out.push({ k: 'open' });
      i++;
    } else if (c === '}') {
      if (depth === 0) throw invalid(pattern, "has an unbalanced '}'");
      depth--;
      out.push({ k: 'close' });
      i++;
    } else if (c === ',' && depth > 0) {
      out.push({ k: 'comma' });
      i++;
    } else {
      out.push({ k: 'lit', ch: c, raw: c });
      i++;
    }
  }
  if (depth !== 0) throw invalid(pattern, "has an unbalanced '{'");
  return out;
}

/** Lexes a `[...]` class starting at chars[start] === '['; returns the index after ']'. */
function lexClass(pattern: string, chars: string[], start: number, out: Tok[]): number {
  let i = start + 1;
  let neg = false;
  if (chars[i] === '!' || chars[i] === '^') {
    neg = true;
    i++;
  }
  const ranges: Array<[number, number]> = [];
  let first = true;
  const member = (): number | undefined => {
    // Reads one member character at i (handling escapes); undefined at the end.
    let c = chars[i];
    if (c === undefined) return undefined;
    if (c === '\\') {
      c = chars[i + 1];
      if (c === undefined) throw invalid(pattern, "ends with a dangling '\\'");
      i += 2;
    } else {
      i++;
    }
    if (c === '/') throw invalid(pattern, "has a '/' inside a '[...]' class");
    return c.codePointAt(0)!;
  };
  for (;;) {
    if (i >= chars.length) throw invalid(pattern, "has an unbalanced '['");
    if (chars[i] === ']' && !first) {
      i++;
      break;
    }
    if (chars[i] === '/') throw invalid(pattern, "has an unbalanced '[' (a class cannot contain '/')");
    first = false;
    const lo = member()!;
    if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']') {
      i++;
      const hi = member();
      if (hi === undefined) throw invalid(pattern, "has an unbalanced '['");
      if (hi < lo) throw invalid(pattern, `has a reversed range in a '[...]' class`);
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  out.push({ k: 'class', neg, ranges, raw: chars.slice(start, i).join('') });
  return i;
}

function rawOf(t: Tok): string {
  switch (t.k) {
    case 'sep': return '/';
    case 'star': return '*';
    case 'any': return '?';
    case 'open': return '{';
    case 'comma': return ',';
    case 'close': return '}';
    default: return t.raw;
  }
}

const isDot = (t: Tok | undefined): boolean => t !== undefined && t.k === 'lit' && t.ch === '.';

/** Drops '.' segments, collapses '//', drops leading and trailing '/'. Safe on unexpanded streams. */
function tidy(toks: Tok[]): Tok[] {
  const noDots: Tok[] = [];
  toks.forEach((t, i) => {
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (isDot(t) && (prev === undefined || prev.k === 'sep') && (next === undefined || next.k === 'sep')) return;
    noDots.push(t);
  });
  const out: Tok[] = [];
  for (const t of noDots) {
    if (t.k === 'sep' && (out.length === 0 || out.at(-1)?.k === 'sep')) continue;
    out.push(t);
  }
  while (out.at(-1)?.k === 'sep') out.pop();
  return out;
}

// ---------------------------------------------------------------------------
// Braces

type Item = Tok | { k: 'group'; alts: Item[][] };

function parseGroups(toks: Tok[]): Item[] {
  let i = 0;
  const seq = (inGroup: boolean): Item[] => {
    const items: Item[] = [];
    for (let t = toks[i]; t !== undefined; t = toks[i]) {
      if (inGroup && (t.k === 'comma' || t.k === 'close')) return items;
      i++;
      if (t.k === 'open') {
        const alts: Item[][] = [seq(true)];
        while (toks[i]?.k === 'comma') {
          i++;
          alts.push(seq(true));
        }
        i++; // the 'close' (balance was checked by the lexer)
        items.push({ k: 'group', alts });
      } else {
        items.push(t);
      }
    }
    return items;
  };
  return seq(false);
}

/** Number of alternatives, capped at MAX_ALTERNATIVES + 1 so it never overflows. */
function countAlternatives(items: Item[]): number {
  let n = 1;
  for (const it of items) {
    if (it.k !== 'group') continue;
    let sum = 0;
    for (const alt of it.alts) sum = Math.min(MAX_ALTERNATIVES + 1, sum + countAlternatives(alt));
    n = Math.min(MAX_ALTERNATIVES + 1, n * sum);
  }
  return n;
}

function expand(items: Item[]): Tok[][] {
  let acc: Tok[][] = [[]];
  for (const it of items) {
    if (it.k === 'group') {
      const options = it.alts.flatMap(expand);
      acc = acc.flatMap((prefix) => options.map((o) => prefix.concat(o)));
    } else {
      for (const a of acc) a.push(it);
    }
  }
  return acc;
}

// ---------------------------------------------------------------------------
// Compilation

function segKey(toks: SegTok[]): string {
  return toks
    .map((t) => {
      switch (t.k) {
        case 'star': return '*';
        case 'any': return '?';
        case 'lit': return 'l' + t.ch;
        case 'class': return (t.neg ? '!' : '=') + t.ranges.map(([a, b]) => `${a}-${b}`).join(',') + ';';
      }
    })
    .join('\u0001');
}

function toSegments(pattern: string, alt: Tok[]): Segment[] {
  if (alt[0]?.k === 'sep') throw invalid(pattern, 'has an absolute alternative; use paths relative to the project root');
  const a0 = alt[0];
  const a1 = alt[1];
  if (a0 !== undefined && a0.k === 'lit' && /^[A-Za-z]$/.test(a0.ch) && a1 !== undefined && a1.k === 'lit' && a1.ch === ':' && (alt.length === 2 || alt[2]?.k === 'sep')) {
    throw invalid(pattern, 'has an absolute Windows path alternative; use paths relative to the project root');
  }
  const segs: Segment[] = [];
  let cur: SegTok[] = [];
  const flush = () => {
    const toks = cur;
    cur = [];
    if (toks.length === 0) return; // '//' or a leading/trailing '/'
    if (toks.every((t) => t.k === 'lit')) {
      const name = toks.map((t) => (t as { ch: string }).ch).join('');
      if (name === '.') return;
      if (name === '..') throw invalid(pattern, "has a '..' segment");
    }
    if (toks.length >= 2 && toks.every((t) => t.k === 'star')) {
      if (!segs.at(-1)?.gs) segs.push({ gs: true, key: '**' });
      return;
    }
    const merged: SegTok[] = [];
    for (const t of toks) {
      if (t.k === 'star' && merged.at(-1)?.k === 'star') continue;
      merged.push(t);
    }
    segs.push({ gs: false, toks: merged, key: segKey(merged) });
  };
  for (const t of alt) {
    if (t.k === 'sep') flush();
    else cur.push(t as SegTok);
  }
  flush();
  return segs;
}

const cache = new Map<string, Compiled>();
const CACHE_LIMIT = 1000;

export function compile(pattern: string): Compiled {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  checkBasics(pattern, 'path pattern');
  const lexed = lex(pattern);
  if (lexed[0]?.k === 'sep') throw invalid(pattern, 'is absolute; use a path relative to the project root');
  const toks = tidy(lexed);
  if (toks.length === 0) throw invalid(pattern, 'is empty after normalization');
  const normalized = toks.map(rawOf).join('');
  const items = parseGroups(toks);
  if (countAlternatives(items) > MAX_ALTERNATIVES) throw invalid(pattern, `expands to more than ${MAX_ALTERNATIVES} alternatives`);
  const seen = new Set<string>();
  const alts: Segment[][] = [];
  for (const alt of expand(items)) {
    const segs = toSegments(pattern, alt);
    if (segs.length === 0) throw invalid(pattern, 'has an alternative that is empty (the whole project); use ** for that');
    // The "everything below" rule: an implicit trailing /**.
    if (!segs.at(-1)?.gs) segs.push({ gs: true, key: '**' });
    const key = segs.map((s) => s.key).join('\u0002');
    if (seen.has(key)) continue;
    seen.add(key);
    alts.push(segs);
  }
  const compiled = { normalized, alts };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

// ---------------------------------------------------------------------------
// Concrete paths (taken literally)

export function pathSegments(path: string): string[] {
  checkBasics(path, 'path');
  const names: string[] = [];
  for (const name of path.split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..') throw invalid(path, "has a '..' segment", 'path');
    names.push(name);
  }
  if (names.length === 0) throw invalid(path, 'is empty after normalization', 'path');
  return names;
}
