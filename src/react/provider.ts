// <BatonProvider>: which daemon the hooks below it read, and a hold on its
// store for as long as the provider is mounted (so the stream stays open
// even when no component happens to subscribe, as in a view of actions only).
// Hooks outside any provider use the page's own origin.
import { createContext, createElement, useContext, useEffect, type ReactElement, type ReactNode } from 'react';
import { storeFor } from './registry.ts';
import type { ProtocolStore } from './store.ts';

const StoreContext = createContext<ProtocolStore | null>(null);

export interface BatonProviderProps {
  /** The daemon's origin, e.g. 'http://127.0.0.1:7777'; '' (the default) is the page's own. */
  baseUrl?: string;
  /** An API token, sent as a Bearer header, for pages not signed in with the dashboard's cookie. */
  token?: string;
  children?: ReactNode;
}

export function BatonProvider({ baseUrl = '', token, children }: BatonProviderProps): ReactElement {
  const store = storeFor(baseUrl, token);
  useEffect(() => {
    store.retain();
    return () => store.release();
  }, [store]);
  return createElement(StoreContext.Provider, { value: store }, children);
}

/** The store of the nearest provider, or of the page's own origin. */
export function useStore(): ProtocolStore {
  return useContext(StoreContext) ?? storeFor();
}
