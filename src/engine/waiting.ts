// Waiting without a daemon: poll the store's change counter at short jittered
// intervals (a cheap read), so waiters learn of a commit within milliseconds
// and only then try a real transaction.
import { BatonError } from '../errors.ts';
import type { Store, StoreTx } from '../stores/store.ts';

/** The engine's store as its waits use it: write and read refuse once the engine is closed. */
export interface Transactions {
  readonly store: Store;
  write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
}

function aborted(signal: AbortSignal): BatonError {
  return new BatonError('ABORTED', `aborted: ${String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? 'aborted'))}`, { cause: signal.reason });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(aborted(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when the store's change counter moves past `seen`, or after `maxMs` (`first`: see Store.waitForCommit). */
export async function waitForChange(store: Store, seen: number, maxMs: number, signal?: AbortSignal, first = false): Promise<void> {
  if (store.waitForCommit !== undefined) return store.waitForCommit(seen, maxMs, signal, first);
  const until = performance.now() + maxMs;
  for (;;) {
    const left = until - performance.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 2 + Math.random() * 6), signal);
    if ((await store.changeCounter()) !== seen) return;
  }
}
