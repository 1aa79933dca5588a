// Row navigation: the view on screen registers the keys of its rows (in
// order) and how to select one; ArrowUp/ArrowDown and j/k, handled once for
// the page, move the selection through whichever list is showing.
import { useEffect, useRef } from 'react';

interface Registration {
  keys: readonly string[];
  selected: string | null;
  select(key: string): void;
}

let current: { readonly ref: { current: Registration } } | null = null;

export function useRowNavigation(keys: readonly string[], selected: string | null, select: (key: string) => void): void {
  const ref = useRef<Registration>({ keys, selected, select });
  ref.current = { keys, selected, select };
  useEffect(() => {
    const mine = { ref };
    current = mine;
    return () => {
      if (current === mine) current = null;
    };
  }, []);
}

/** Moves the selection by delta rows (clamped); with nothing selected, selects the first (or last) row. */
export function moveSelection(delta: number): boolean {
  const reg = current?.ref.current;
  if (reg === undefined || reg.keys.length === 0) return false;
  const at = reg.selected === null ? -1 : reg.keys.indexOf(reg.selected);
  const next = at < 0 ? (delta > 0 ? 0 : reg.keys.length - 1) : Math.min(reg.keys.length - 1, Math.max(0, at + delta));
  const key = reg.keys[next];
  if (key === undefined || key === reg.selected) return key !== undefined;
  reg.select(key);
  return true;
}

/** The selected row's key, or the first row's when none is selected (D opens details for something). */
export function selectedOrFirst(): string | null {
  const reg = current?.ref.current;
  if (reg === undefined) return null;
  if (reg.selected !== null && reg.keys.includes(reg.selected)) return reg.selected;
  const first = reg.keys[0];
  if (first !== undefined) reg.select(first);
  return first ?? null;
}
