// Every view's state lives in the URL's query string (?view=queue&state=failed,
// ?view=timeline&seq=123), so a link, a reload or the back button shows the same
// screen. A change of view makes a history entry; filters and the selected row
// replace the current one, so Back leaves the view instead of replaying keystrokes.
import { useSyncExternalStore, type MouseEvent } from 'react';

export type Params = Readonly<Record<string, string>>;
export type ParamChanges = Record<string, string | number | null | undefined>;

const listeners = new Set<() => void>();
let cached: { search: string; params: Params } = { search: '\0', params: {} };

function snapshot(): Params {
  // A new object only when the query string changed: useSyncExternalStore needs a stable snapshot.
  if (cached.search !== location.search) {
    cached = { search: location.search, params: Object.freeze(Object.fromEntries(new URLSearchParams(location.search))) };
  }
  return cached.params;
}

function notify(): void {
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) addEventListener('popstate', notify);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) removeEventListener('popstate', notify);
  };
}

export function useParams(): Params {
  return useSyncExternalStore(subscribe, snapshot);
}

/** The current params read outside React (keyboard handlers). */
export function currentParams(): Params {
  return snapshot();
}

/** The query string with changes applied: null or '' removes a param. */
export function searchWith(changes: ParamChanges, replaceAll = false): string {
  const params = new URLSearchParams(replaceAll ? '' : location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(name);
    else params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? location.pathname : `?${text}`;
}

export function setParams(changes: ParamChanges, options: { push?: boolean; replaceAll?: boolean } = {}): void {
  const next = searchWith(changes, options.replaceAll);
  const url = new URL(next, location.href);
  if (url.search === location.search) return;
  if (options.push === true) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
  notify();
}

/** A link's click handler: navigate in place (no reload), but leave modified clicks (new tab) to the browser. */
export function followLink(event: MouseEvent<HTMLAnchorElement>, changes: ParamChanges, replaceAll = true): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  setParams(changes, { push: true, replaceAll });
}
