// The one setting the dashboard keeps: whether single-key shortcuts are on
// (WCAG 2.1.4 asks that they can be turned off: speech input users type letters
// by voice). Kept in localStorage so it survives reloads; shared by every
// component through one tiny store.
import { useSyncExternalStore } from 'react';

const KEY = 'baton.ui.singleKeyShortcuts';
const listeners = new Set<() => void>();

function read(): boolean {
  try {
    return localStorage.getItem(KEY) !== 'off';
  } catch {
    return true; // storage blocked: on, as the default
  }
}

let enabled = read();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab changing the setting changes it here too.
  const onStorage = (event: StorageEvent): void => {
    if (event.key === KEY) {
      enabled = read();
      listener();
    }
  };
  addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    removeEventListener('storage', onStorage);
  };
}

export function useSingleKeyShortcuts(): boolean {
  return useSyncExternalStore(subscribe, () => enabled);
}

export function singleKeyShortcutsEnabled(): boolean {
  return enabled;
}

export function setSingleKeyShortcuts(on: boolean): void {
  enabled = on;
  try {
    localStorage.setItem(KEY, on ? 'on' : 'off');
  } catch {
    // not persisted; still applies to this page
  }
  for (const l of listeners) l();
}
