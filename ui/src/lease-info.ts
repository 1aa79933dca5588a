// Waiters are not in listLeases: only getLease(key) names them. The dashboard
// asks about the keys on screen and the oldest holds (where long waits are
// likeliest) every few seconds, a few requests at a time, and shares the
// answers between the Holders view and the attention bar.
import { useEffect, useSyncExternalStore } from 'react';
import { useBatonActions } from '../../src/react/index.ts';
import type { LeaseInfo } from './types.ts';

const REFRESH_MS = 5000;
const AT_ONCE = 6;

export const leaseInfo = new Map<string, LeaseInfo & { fetchedAt: number }>();
const inflight = new Set<string>();
const listeners = new Set<() => void>();
let version = 0;

function changed(): void {
  version++;
  for (const l of listeners) l();
}

type Call = ReturnType<typeof useBatonActions>['call'];

async function refresh(call: Call, keys: readonly string[], force: boolean): Promise<void> {
  const now = Date.now();
  const due = keys.filter((k) => !inflight.has(k) && (force || (leaseInfo.get(k)?.fetchedAt ?? 0) < now - REFRESH_MS + 250));
  for (let i = 0; i < due.length; i += AT_ONCE) {
    const chunk = due.slice(i, i + AT_ONCE);
    for (const k of chunk) inflight.add(k);
    await Promise.all(
      chunk.map((key) =>
        call<LeaseInfo>('getLease', { key }).then(
          (info) => leaseInfo.set(key, { ...info, fetchedAt: Date.now() }),
          () => leaseInfo.delete(key),
        ).finally(() => inflight.delete(key)),
      ),
    );
    changed();
  }
  // Forget keys nobody asked about for a minute.
  for (const [key, info] of leaseInfo) if (info.fetchedAt < now - 60_000) leaseInfo.delete(key);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Keeps getLease answers for these keys fresh (every REFRESH_MS; at once when
 * `bump` changes, e.g. a lease event on the key). Returns a number that changes
 * whenever any answer does: read `leaseInfo` for them.
 */
export function useLeaseInfo(keys: readonly string[], bump: unknown = null): number {
  const { call } = useBatonActions();
  const joined = keys.join('\n');
  useEffect(() => {
    const list = joined === '' ? [] : joined.split('\n');
    if (list.length === 0) return;
    void refresh(call, list, bump !== null);
    const timer = setInterval(() => void refresh(call, list, false), REFRESH_MS);
    return () => clearInterval(timer);
  }, [call, joined, bump]);
  return useSyncExternalStore(subscribe, () => version);
}
