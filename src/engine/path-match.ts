// Matching compiled path patterns (path-pattern.ts): whether two can cover a
// common path, and whether one covers a concrete path.
//
// Overlap is decided exactly (up to negated classes, which are treated as
// satisfiable): it is the non-emptiness of the intersection of two regular
// languages, computed segment by segment with a DP over (segment index,
// segment index), and inside a segment with a DP over (token index, token
// index). The "everything below" rule is an implicit trailing `/**`, which
// compile adds to every alternative.

import type { CharTok, ClassTok, Segment, SegTok } from './path-pattern.ts';

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
    const xp = x[p]; // undefined past the end
    for (let q = Y; q >= 0; q--) {
      const yq = y[q];
      let r: boolean;
      if (xp === undefined && yq === undefined) r = true;
      else if (xp?.k === 'star') {
        // x's star ends here, or it absorbs whatever y[q] produces (a character, or y's star ends).
        r = g[(p + 1) * W + q] === 1 || (yq !== undefined && g[p * W + q + 1] === 1);
      } else if (yq?.k === 'star') {
        r = g[p * W + q + 1] === 1 || (xp !== undefined && g[(p + 1) * W + q] === 1);
      } else if (xp !== undefined && yq !== undefined) {
        r = charsMeet(xp, yq) && g[(p + 1) * W + q + 1] === 1;
      } else r = false;
      g[p * W + q] = r ? 1 : 0;
    }
  }
  return g[0] === 1;
}

export function alternativesMeet(a: Segment[], b: Segment[], memo: Map<string, boolean>): boolean {
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
    const ai = a[i]; // undefined past the end
    for (let j = B; j >= 0; j--) {
      const bj = b[j];
      let r: boolean;
      if (ai === undefined && bj === undefined) r = true;
      else if (ai?.gs) {
        // a's ** ends, or it absorbs one segment of b (every segment can match some name; or b's ** ends).
        r = f[(i + 1) * W + j] === 1 || (bj !== undefined && f[i * W + j + 1] === 1);
      } else if (bj?.gs) {
        r = f[i * W + j + 1] === 1 || (ai !== undefined && f[(i + 1) * W + j] === 1);
      } else if (ai !== undefined && bj !== undefined) {
        r = f[(i + 1) * W + j + 1] === 1 && meet(ai, bj);
      } else r = false;
      f[i * W + j] = r ? 1 : 0;
    }
  }
  return f[0] === 1;
}

// ---------------------------------------------------------------------------
// Cover: a concrete path

function nameMatches(toks: SegTok[], name: string): boolean {
  const cs = Array.from(name);
  const T = toks.length;
  const C = cs.length;
  const W = C + 1;
  const m = new Uint8Array((T + 1) * W);
  for (let p = T; p >= 0; p--) {
    for (let q = C; q >= 0; q--) {
      let r: boolean;
      const t = toks[p];
      const c = cs[q];
      if (t === undefined) r = c === undefined;
      else if (t.k === 'star') r = m[(p + 1) * W + q] === 1 || (c !== undefined && m[p * W + q + 1] === 1);
      else if (c === undefined) r = false;
      else {
        const ok = t.k === 'any' ? true : t.k === 'lit' ? t.ch === c : inRanges(c.codePointAt(0)!, t.ranges) !== t.neg;
        r = ok && m[(p + 1) * W + q + 1] === 1;
      }
      m[p * W + q] = r ? 1 : 0;
    }
  }
  return m[0] === 1;
}

export function alternativeCovers(segs: Segment[], names: string[]): boolean {
  const S = segs.length;
  const N = names.length;
  const W = N + 1;
  const m = new Uint8Array((S + 1) * W);
  for (let i = S; i >= 0; i--) {
    for (let j = N; j >= 0; j--) {
      let r: boolean;
      const s = segs[i];
      const name = names[j];
      if (s === undefined) r = name === undefined;
      else if (s.gs) r = m[(i + 1) * W + j] === 1 || (name !== undefined && m[i * W + j + 1] === 1);
      else r = name !== undefined && nameMatches(s.toks, name) && m[(i + 1) * W + j + 1] === 1;
      m[i * W + j] = r ? 1 : 0;
    }
  }
  return m[0] === 1;
}
