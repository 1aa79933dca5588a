// Path patterns for `path:<pattern>` reservations: the rules, and the
// functions the rest of baton calls.
//
// A pattern is relative to the project root and uses '/' as separator. It
// covers every path it matches AND everything below such a path: `src/auth`
// reserves that file or directory and all under it, `src/*.ts` covers
// `src/x.ts` (and `src/x.ts/...`), `src/**` covers `src` itself and all below.
// Two reservations conflict when some path is covered by both patterns.
//
// The syntax and normalization are in path-pattern.ts (parsing), overlap and
// cover in path-match.ts (matching).

import { alternativeCovers, alternativesMeet } from './path-match.ts';
import { compile, pathSegments } from './path-pattern.ts';

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
