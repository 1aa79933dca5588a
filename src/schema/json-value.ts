// What a JSON value from a caller may hold, checked without recursion: a value
// nested too deep for JSON.stringify must not overflow the stack of the check
// meant to refuse it. No zod here: the engine checks its library callers'
// values with the same rules the daemon's schemas apply.

/** The one key no body may carry: an own `__proto__` becomes a prototype wherever it is copied by assignment. */
export const FORBIDDEN_KEY = '__proto__';

export type JsonPath = Array<string | number>;

/** Where under a value something is wrong, and what ("nests deeper than 64 levels"). */
export interface JsonProblem {
  path: JsonPath;
  problem: string;
}

/** `path` written under `root`: body.spec.payload[0].a, or ["a b"] for a key that is not a name. */
export function pathText(root: string, path: readonly PropertyKey[]): string {
  let at = root;
  for (const key of path) {
    if (typeof key === 'number') at += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) at += `.${key}`;
    else at += `[${JSON.stringify(String(key))}]`;
  }
  return at;
}

/** A place in a value, linked to its parent: no path is copied per element, however deep the value. */
interface Place {
  parent: Place | null;
  key: string | number;
  depth: number;
}

function pathOf(place: Place | null): JsonPath {
  const path: JsonPath = [];
  for (let p = place; p !== null; p = p.parent) path.push(p.key);
  return path.reverse();
}

/**
 * The first problem with `value`, or null: an own `__proto__` key, a string
 * or key that is not well-formed Unicode (a lone surrogate, which the store
 * would turn into U+FFFD, so two strings would become one), a number that
 * is not finite (stored as null), or containers
 * nested deeper than `maxDepth` (`{}` is 1; omitted: any depth).
 */
export function jsonProblem(value: unknown, maxDepth = Infinity): JsonProblem | null {
  const rootProblem = scalarProblem(value);
  if (rootProblem !== null) return { path: [], problem: rootProblem };
  if (typeof value !== 'object' || value === null) return null;
  // Only containers go on the stack; scalars are checked where they are met. Every request's body
  // passes here, and a stack entry per value made garbage enough to grow a loaded daemon's heap.
  const stack: Array<{ value: object; place: Place | null }> = [{ value, place: null }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, place } = item;
    // A container's depth is the number of keys above it, plus itself.
    const depth = (place?.depth ?? 0) + 1;
    if (depth > maxDepth) return { path: [], problem: `nests deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child: unknown = v[i];
        if (typeof child === 'object' && child !== null) stack.push({ value: child, place: { parent: place, key: i, depth } });
        else {
          const problem = scalarProblem(child);
          if (problem !== null) return { path: pathOf({ parent: place, key: i, depth }), problem };
        }
      }
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (key === FORBIDDEN_KEY) return { path: pathOf({ parent: place, key, depth }), problem: `is not allowed: no field may be named "${FORBIDDEN_KEY}"` };
      if (!key.isWellFormed()) return { path: pathOf(place), problem: 'has a key that is not well-formed Unicode (a lone surrogate)' };
      const child: unknown = (v as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ value: child, place: { parent: place, key, depth } });
      else {
        const problem = scalarProblem(child);
        if (problem !== null) return { path: pathOf({ parent: place, key, depth }), problem };
      }
    }
  }
  return null;
}

/** What is wrong with a scalar, or null. */
function scalarProblem(v: unknown): string | null {
  if (typeof v === 'string') return v.isWellFormed() ? null : 'is not well-formed Unicode (it has a lone surrogate)';
  // 1e400 parses to Infinity, which JSON.stringify stores as null: refused, not rewritten.
  if (typeof v === 'number' && !Number.isFinite(v)) return `is ${v}, not a finite number (JSON numbers reach about 1.8e308)`;
  return null;
}
