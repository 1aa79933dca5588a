// Path patterns for `path:<pattern>` reservations.
//
// A pattern is relative to the project root and uses '/' as separator. It
// covers every path it matches AND everything below such a path: `src/auth`
// reserves that file or directory and all under it, `src/*.ts` covers
// `src/x.ts` (and `src/x.ts/...`), `src/**` covers `src` itself and all below.
// Two reservations conflict when some path is covered by both patterns.
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
//
// Overlap is decided exactly (up to negated classes, which are treated as
// satisfiable): it is the non-emptiness of the intersection of two regular
// languages, computed segment by segment with a DP over (segment index,
// segment index), and inside a segment with a DP over (token index, token
// index). The "everything below" rule is an implicit trailing `/**`.

import { BatonError } from '../errors.ts';

export const MAX_BRACE_DEPTH = 8;
export const MAX_ALTERNATIVES = 256;
export const MAX_PATTERN_LENGTH = 4096;

// ---------------------------------------------------------------------------
// Lexing

type ClassTok = { k: 'class'; neg: boolean; ranges: Array<[number, number]>; raw: string };
type CharTok = { k: 'lit'; ch: string; raw: string } | { k: 'any' } | ClassTok;
type SegTok = CharTok | { k: 'star' };
type Tok = SegTok | { k: 'sep' } | { k: 'open' } | { k: 'comma' } | { k: 'close' };

/** A segment is either a globstar or a non-empty list of tokens matching one name. */
type Segment = { gs: true; key: string } | { gs: false; toks: SegTok[]; key: string };
type Compiled = { normalized: string; alts: Segment[][] };

function invalid(value: unknown, reason: string, what = 'path pattern'): BatonError {
  return new BatonError('INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(value)}: ${reason}`, { details: { [what === 'path' ? 'path' : 'pattern']: value } });
}

function checkBasics(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw invalid(value, 'must be a string', what);
  if (value.length === 0) throw invalid(value, 'is empty', what);
  if (value.length > MAX_PATTERN_LENGTH) throw invalid(value, `is longer than ${MAX_PATTERN_LENGTH} characters`, what);
  if (value.includes('\0')) throw invalid(value, 'contains a NUL byte', what);
  if (value.startsWith('/')) throw invalid(value, 'is absolute; use a path relative to the project root', what);
  if (/^[A-Za-z]:([\\/]|$)/.test(value)) throw invalid(value, 'is an absolute Windows path; use a path relative to the project root', what);
}

function lex(pattern: string): Tok[] {
  const chars = Array.from(pattern);
  const out: Tok[] = [];
  let depth = 0;
  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) throw invalid(pattern, "ends with a dangling '\\'");
      const e = chars[i + 1];
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
    if (i >= chars.length) return undefined;
    let c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) throw invalid(pattern, "ends with a dangling '\\'");
      c = chars[i + 1];
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
  for (let i = 0; i < toks.length; i++) {
    const prev = i === 0 ? undefined : toks[i - 1];
    const next = toks[i + 1];
    if (isDot(toks[i]) && (prev === undefined || prev.k === 'sep') && (next === undefined || next.k === 'sep')) continue;
    noDots.push(toks[i]);
  }
  const out: Tok[] = [];
  for (const t of noDots) {
    if (t.k === 'sep' && (out.length === 0 || out[out.length - 1].k === 'sep')) continue;
    out.push(t);
  }
  while (out.length > 0 && out[out.length - 1].k === 'sep') out.pop();
  return out;
}

// ---------------------------------------------------------------------------
// Braces

type Item = Tok | { k: 'group'; alts: Item[][] };

function parseGroups(toks: Tok[]): Item[] {
  let i = 0;
  const seq = (inGroup: boolean): Item[] => {
    const items: Item[] = [];
    while (i < toks.length) {
      const t = toks[i];
      if (inGroup && (t.k === 'comma' || t.k === 'close')) return items;
      i++;
      if (t.k === 'open') {
        const alts: Item[][] = [seq(true)];
        while (toks[i].k === 'comma') {
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
  if (alt.length > 0 && alt[0].k === 'sep') throw invalid(pattern, 'has an absolute alternative; use paths relative to the project root');
  const a0 = alt[0];
  const a1 = alt[1];
  if (a0 !== undefined && a0.k === 'lit' && /^[A-Za-z]$/.test(a0.ch) && a1 !== undefined && a1.k === 'lit' && a1.ch === ':' && (alt.length === 2 || alt[2].k === 'sep')) {
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
      if (segs.length === 0 || !segs[segs.length - 1].gs) segs.push({ gs: true, key: '**' });
      return;
    }
    const merged: SegTok[] = [];
    for (const t of toks) {
      if (t.k === 'star' && merged.length > 0 && merged[merged.length - 1].k === 'star') continue;
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

function compile(pattern: string): Compiled {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  checkBasics(pattern, 'path pattern');
  const lexed = lex(pattern);
  if (lexed.length > 0 && lexed[0].k === 'sep') throw invalid(pattern, 'is absolute; use a path relative to the project root');
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
    if (!segs[segs.length - 1].gs) segs.push({ gs: true, key: '**' });
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
// Overlap

function inRanges(cp: number, ranges: Array<[number, number]>): boolean {
  return ranges.some(([lo, hi]) => lo <= cp && cp <= hi);
}

/** Some code point in [lo, hi] that is not in `ranges`? */
function rangeNotCovered(lo: number, hi: number, ranges: Array<[number, number]>): boolean {
  const sorted = ranges.filter(([a, b]) => b >= lo && a <= hi).sort((x, y) => x[0] - y[0]);
  let next = lo; // smallest code point in [lo, hi] not yet known to be covered
  for (const [a, b] of sorted) {
    if (a > next) return true;
    next = Math.max(next, b + 1);
    if (next > hi) return false;
  }
  return next <= hi;
}

/** Can one character (never '/') be produced by both tokens? */
function charsMeet(x: CharTok, y: CharTok): boolean {
  if (x.k === 'any' || y.k === 'any') return true;
  if (x.k === 'lit' && y.k === 'lit') return x.ch === y.ch;
  if (x.k === 'lit' || y.k === 'lit') {
    const [l, c] = x.k === 'lit' ? [x, y as ClassTok] : [y as { ch: string }, x as ClassTok];
    return inRanges(l.ch.codePointAt(0)!, c.ranges) !== c.neg;
  }
  const cx = x as ClassTok;
  const cy = y as ClassTok;
  if (cx.neg && cy.neg) return true; // both exclude finitely many characters
  if (!cx.neg && !cy.neg) return cx.ranges.some(([a, b]) => cy.ranges.some(([c, d]) => a <= d && c <= b));
  const [pos, neg] = cx.neg ? [cy, cx] : [cx, cy];
  return pos.ranges.some(([a, b]) => rangeNotCovered(a, b, neg.ranges));
}

/** Is there a name matched by both segment token lists? */
function segmentsMeet(x: SegTok[], y: SegTok[]): boolean {
  const X = x.length;
  const Y = y.length;
  const W = Y + 1;
  // g[p*W+q]: x[p..] and y[q..] can match a common string.
  const g = new Uint8Array((X + 1) * W);
  for (let p = X; p >= 0; p--) {
    for (let q = Y; q >= 0; q--) {
      let r: boolean;
      if (p === X && q === Y) r = true;
      else if (p < X && x[p].k === 'star') {
        // x's star ends here, or it absorbs whatever y[q] produces (a character, or y's star ends).
        r = g[(p + 1) * W + q] === 1 || (q < Y && g[p * W + q + 1] === 1);
      } else if (q < Y && y[q].k === 'star') {
        r = g[p * W + q + 1] === 1 || (p < X && g[(p + 1) * W + q] === 1);
      } else if (p < X && q < Y) {
        r = charsMeet(x[p] as CharTok, y[q] as CharTok) && g[(p + 1) * W + q + 1] === 1;
      } else r = false;
      g[p * W + q] = r ? 1 : 0;
    }
  }
  return g[0] === 1;
}

function alternativesMeet(a: Segment[], b: Segment[], memo: Map<string, boolean>): boolean {
  const A = a.length;
  const B = b.length;
  const W = B + 1;
  const meet = (s: Segment, t: Segment): boolean => {
    if (s.gs || t.gs) return true;
    const key = s.key < t.key ? s.key + '\u0000' + t.key : t.key + '\u0000' + s.key;
    let r = memo.get(key);
    if (r === undefined) {
      r = segmentsMeet(s.toks, t.toks);
      memo.set(key, r);
    }
    return r;
  };
  // f[i*W+j]: a[i..] and b[j..] can match a common sequence of segments.
  const f = new Uint8Array((A + 1) * W);
  for (let i = A; i >= 0; i--) {
    for (let j = B; j >= 0; j--) {
      let r: boolean;
      if (i === A && j === B) r = true;
      else if (i < A && a[i].gs) {
        // a's ** ends, or it absorbs one segment of b (every segment can match some name; or b's ** ends).
        r = f[(i + 1) * W + j] === 1 || (j < B && f[i * W + j + 1] === 1);
      } else if (j < B && b[j].gs) {
        r = f[i * W + j + 1] === 1 || (i < A && f[(i + 1) * W + j] === 1);
      } else if (i < A && j < B) {
        r = f[(i + 1) * W + j + 1] === 1 && meet(a[i], b[j]);
      } else r = false;
      f[i * W + j] = r ? 1 : 0;
    }
  }
  return f[0] === 1;
}

// ---------------------------------------------------------------------------
// Concrete paths

function pathSegments(path: string): string[] {
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

function nameMatches(toks: SegTok[], name: string): boolean {
  const cs = Array.from(name);
  const T = toks.length;
  const C = cs.length;
  const W = C + 1;
  const m = new Uint8Array((T + 1) * W);
  for (let p = T; p >= 0; p--) {
    for (let q = C; q >= 0; q--) {
      let r: boolean;
      if (p === T) r = q === C;
      else {
        const t = toks[p];
        if (t.k === 'star') r = m[(p + 1) * W + q] === 1 || (q < C && m[p * W + q + 1] === 1);
        else if (q === C) r = false;
        else {
          const cp = cs[q].codePointAt(0)!;
          const ok = t.k === 'any' ? true : t.k === 'lit' ? t.ch === cs[q] : inRanges(cp, t.ranges) !== t.neg;
          r = ok && m[(p + 1) * W + q + 1] === 1;
        }
      }
      m[p * W + q] = r ? 1 : 0;
    }
  }
  return m[0] === 1;
}

function alternativeCovers(segs: Segment[], names: string[]): boolean {
  const S = segs.length;
  const N = names.length;
  const W = N + 1;
  const m = new Uint8Array((S + 1) * W);
  for (let i = S; i >= 0; i--) {
    for (let j = N; j >= 0; j--) {
      let r: boolean;
      if (i === S) r = j === N;
      else {
        const s = segs[i];
        if (s.gs) r = m[(i + 1) * W + j] === 1 || (j < N && m[i * W + j + 1] === 1);
        else r = j < N && nameMatches(s.toks, names[j]) && m[(i + 1) * W + j + 1] === 1;
      }
      m[i * W + j] = r ? 1 : 0;
    }
  }
  return m[0] === 1;
}

// ---------------------------------------------------------------------------
// API

/** The canonical form of a path pattern; throws BatonError('INVALID_ARGUMENT') when it is not valid. */
export function normalizePathPattern(pattern: string): string {
  return compile(pattern).normalized;
}

/** True when some path could be covered by both patterns (both are validated). */
export function pathsOverlap(a: string, b: string): boolean {
  const ca = compile(a);
  const cb = compile(b);
  const memo = new Map<string, boolean>();
  for (const x of ca.alts) {
    for (const y of cb.alts) {
      if (alternativesMeet(x, y, memo)) return true;
    }
  }
  return false;
}

/**
 * True when the concrete path (taken literally: no wildcards, no escapes;
 * '.' segments, '//' and a trailing '/' are tolerated) is covered by the pattern.
 */
export function pathCovers(pattern: string, path: string): boolean {
  const c = compile(pattern);
  const names = pathSegments(path);
  return c.alts.some((segs) => alternativeCovers(segs, names));
}

/**
 * A concrete path as a lease pattern that covers exactly it: glob
 * metacharacters are escaped, so `src/[id].ts` becomes `src/\\[id\\].ts`.
 */
export function pathPatternFor(rel: string): string {
  return rel.replace(/[\\*?[\]{}]/g, (c) => '\\' + c);
}
