// One store per daemon and credential, for the whole page: every provider and
// hook naming the same baseUrl and token shares its connection and its data.
// A store with no one holding it has stopped and holds nothing, so keeping it
// in the map costs a few empty fields; keeping it means a component that
// still has it and one that looks it up afresh always get the same object.
import { ProtocolStore } from './store.ts';
import type { StoreStats } from './types.ts';

const stores = new Map<string, ProtocolStore>();

const normalise = (baseUrl: string): string => baseUrl.replace(/\/+$/, '');
const keyOf = (baseUrl: string, token: string | undefined): string => JSON.stringify([normalise(baseUrl), token ?? null]);

/** The store for this daemon (baseUrl '' is the page's own origin) and token. Creating one starts nothing: holding it does. */
export function storeFor(baseUrl = '', token?: string): ProtocolStore {
  const key = keyOf(baseUrl, token);
  let store = stores.get(key);
  if (store === undefined) stores.set(key, (store = new ProtocolStore({ baseUrl: normalise(baseUrl), token })));
  return store;
}

/** What a store is doing (references, streams opened, polls, fetches): for tests and debugging. null for a daemon never used. */
export function storeStats(baseUrl = '', token?: string): StoreStats | null {
  return stores.get(keyOf(baseUrl, token))?.stats() ?? null;
}
