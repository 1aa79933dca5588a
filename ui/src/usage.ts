// Token use per agent and model (the `usage` operation): not part of the live
// snapshot, so fetched here while the Agents view shows: at once, after token
// events (at most every 2 s), and every 10 s besides (a sync included).
import { useEffect, useRef, useState } from 'react';
import { useBatonActions, useProtocolEvent } from '../../src/react/index.ts';
import type { UsageTotals } from './types.ts';

const MIN_GAP_MS = 2000;
const EVERY_MS = 10_000;

export function useUsage(): UsageTotals | null {
  const { call } = useBatonActions();
  const [usage, setUsage] = useState<UsageTotals | null>(null);
  const [dirty, setDirty] = useState(0);
  const last = useRef(0);
  const alive = useRef(true);

  useProtocolEvent('tokens.*', () => setDirty((n) => n + 1));

  useEffect(() => {
    alive.current = true;
    const timer = setInterval(() => setDirty((n) => n + 1), EVERY_MS);
    return () => {
      alive.current = false;
      clearInterval(timer);
    };
  }, []);

  useEffect(() => {
    // A new event only moves the fetch later (never drops one in flight), so a steady stream of token events still refreshes every 2 s.
    const timer = setTimeout(
      () => {
        last.current = Date.now();
        call<UsageTotals>('usage', {}).then(
          (u) => alive.current && setUsage(u),
          () => undefined, // the header shows connection trouble; stale totals stay on screen
        );
      },
      Math.max(0, last.current + MIN_GAP_MS - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [call, dirty]);

  return usage;
}
