// The dashboard session's key. The daemon's sign-in redirects to
// /ui/#session=<key>: a fragment, which no request carries and no log sees.
// It is moved at once into this origin's localStorage (scoped to the exact
// origin, port included, unlike the cookie, which every port of 127.0.0.1
// shares) and the fragment is wiped from the address bar and the history.
// Every call then sends it in X-Baton-Session: a server on another local
// port that the browser is sent to gets the cookie, never the key.
const STORAGE_KEY = 'baton.session-key';

let key: string | null | undefined;

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // storage disabled
  }
}

/** Takes the key out of the page's fragment, if the sign-in just put it there. */
function adoptFromFragment(): void {
  if (typeof location === 'undefined') return;
  const match = /(?:^#|&)session=([A-Za-z0-9_-]{20,100})(?:&|$)/.exec(location.hash);
  if (match === null) return;
  key = match[1]!;
  storage()?.setItem(STORAGE_KEY, key);
  if (typeof history !== 'undefined') history.replaceState(history.state, '', `${location.pathname}${location.search}`);
}

// At import, before anything reads or rewrites the URL.
adoptFromFragment();

/** The session key of this origin's dashboard sign-in, if any. */
export function sessionKey(): string | undefined {
  if (key === undefined) key = storage()?.getItem(STORAGE_KEY) ?? null;
  return key ?? undefined;
}
