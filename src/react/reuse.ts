// Structural sharing between a list as it was and as fetched again: a record
// equal to the one before keeps its old object, and a list with nothing
// changed keeps its old array. So a refetch that finds nothing new changes no
// reference, a selector over one record sees the same object until that
// record changes, and React skips what did not change.

/** Deep equality of JSON values (what the daemon sends). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // for...in rather than Object.keys: no arrays allocated per record (a 10,000-task list is compared often).
  let count = 0;
  for (const k in a) {
    if (!Object.hasOwn(b, k) || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    count++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) count--;
  return count === 0;
}

/** `next`, with each record equal to one in `prev` (matched by key) replaced by that one; `prev` itself when nothing differs. */
export function reuseList<T>(prev: readonly T[], next: readonly T[], keyOf: (item: T) => string | number): readonly T[] {
  const before = new Map<string | number, T>();
  for (const item of prev) before.set(keyOf(item), item);
  let same = prev.length === next.length;
  const out = next.map((item, i) => {
    const old = before.get(keyOf(item));
    const kept = old !== undefined && sameJson(old, item) ? old : item;
    if (kept !== prev[i]) same = false;
    return kept;
  });
  return same ? prev : Object.freeze(out);
}

/** A value fetched again: the old one when equal. */
export function reuseValue<T>(prev: T, next: T): T {
  return sameJson(prev, next) ? prev : next;
}
