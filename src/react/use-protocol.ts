// useProtocol(selector, isEqual?): a value derived from the store's snapshot,
// re-rendering only when it changes. The selection is memoised per snapshot,
// so a selector that builds a new array each call (s => s.tasks.filter(...))
// is called once per change, not once per read, and cannot loop; with an
// isEqual (shallowEqual, say) an equal result keeps the previous object, so
// the component does not re-render for it at all. The same technique as
// React's use-sync-external-store/with-selector, without the dependency.
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useStore } from './provider.ts';
import type { ProtocolState } from './types.ts';

export function useProtocol<T>(selector: (state: ProtocolState) => T, isEqual: (a: T, b: T) => boolean = Object.is): T {
  const store = useStore();
  // The last value rendered, so a new selector (an inline function is new each render) still returns an equal value's old object.
  const rendered = useRef<{ has: boolean; value: T | undefined }>({ has: false, value: undefined });
  const getSelection = useMemo(() => {
    let has = false;
    let snapshot: ProtocolState | undefined;
    let selection: T;
    return (): T => {
      const next = store.getSnapshot();
      if (has && next === snapshot) return selection;
      const value = selector(next);
      const previous = has ? { has, value: selection } : rendered.current;
      snapshot = next;
      selection = previous.has && isEqual(previous.value as T, value) ? (previous.value as T) : value;
      has = true;
      return selection;
    };
  }, [store, selector, isEqual]);
  const value = useSyncExternalStore(store.subscribe, getSelection, getSelection);
  useEffect(() => {
    rendered.current = { has: true, value };
  }, [value]);
  return value;
}

/** Equal arrays (same length, same items by Object.is) or plain objects (same keys, same values): for selectors that build one. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
