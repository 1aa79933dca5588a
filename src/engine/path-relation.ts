// How a held path reservation stands to a wanted one, for telling a person
// why a path is not free: the same paths, a pattern covering it, one inside
// it, or a partial overlap. Conflicts themselves are decided by
// pathsOverlap (paths.ts); this only words them.
//
// "Covers" is decided exactly where it is cheap and certain: a pattern whose
// alternative is a literal directory (`src/auth`, `src/auth/**`) covers every
// alternative that starts with that directory, and any pattern covers a
// literal path it matches. Two wildcard patterns that are not of that form
// are reported as overlapping, which is true, if less precise.

import { alternativeCovers } from './path-match.ts';
import { compile, type Segment } from './path-pattern.ts';
import { pathsOverlap } from './paths.ts';

export type PathRelation = 'same' | 'covers' | 'inside' | 'overlaps' | 'apart';

/** The leading names of an alternative that are literal (no wildcard in them). */
function literalPrefix(alt: Segment[]): string[] {
  const names: string[] = [];
  for (const segment of alt) {
    if (segment.gs || !segment.toks.every((t) => t.k === 'lit')) break;
    names.push(segment.toks.map((t) => (t.k === 'lit' ? t.ch : '')).join(''));
  }
  return names;
}

/** An alternative that is a literal path and everything below it (compile adds the trailing `**`). */
function literalTree(alt: Segment[]): string[] | undefined {
  const names = literalPrefix(alt);
  return names.length === alt.length - 1 && alt.at(-1)?.gs === true ? names : undefined;
}

const startsWith = (names: string[], prefix: string[]): boolean => prefix.length <= names.length && prefix.every((name, i) => names[i] === name);

/** Every path `b` covers is covered by `a` too (false when that cannot be shown cheaply). */
function coversAll(a: Segment[][], b: Segment[][]): boolean {
  return b.every((bAlt) => {
    const bTree = literalTree(bAlt);
    const bPrefix = literalPrefix(bAlt);
    return a.some((aAlt) => {
      const aTree = literalTree(aAlt);
      if (aTree !== undefined) return startsWith(bPrefix, aTree);
      // A wildcard pattern covers a literal tree when it matches its root (and so all below it).
      return bTree !== undefined && alternativeCovers(aAlt, bTree);
    });
  });
}

/**
 * How the reservation `held` stands to `wanted` (both path patterns, without
 * the `path:` prefix): 'same' paths, `held` 'covers' all of `wanted`, it is
 * 'inside' `wanted`, they 'overlap' in part, or they are 'apart'.
 */
export function pathRelation(held: string, wanted: string): PathRelation {
  if (!pathsOverlap(held, wanted)) return 'apart';
  const h = compile(held);
  const w = compile(wanted);
  if (h.normalized === w.normalized) return 'same';
  const covers = coversAll(h.alts, w.alts);
  const inside = coversAll(w.alts, h.alts);
  if (covers && inside) return 'same';
  if (covers) return 'covers';
  if (inside) return 'inside';
  return 'overlaps';
}
