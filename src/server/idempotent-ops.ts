// The daemon's own mutations (files, git) under the Idempotency-Key that the
// SDK sends with every mutation and reuses on its retries: a repeated request
// gets the first answer and acts once; the same key on another request is
// IDEMPOTENCY_MISMATCH, as for the engine's operations (one table, one TTL).
// Their effects are on disk, not in the database, so the result is recorded
// right after the effect: calls with one key run one at a time, and only a
// daemon crash (or a failed write of the record) between a change and its
// record lets a retry act again.
import { recall, remember } from '../engine/idempotency.ts';
import type { Store } from '../stores/store.ts';
import type { DaemonOperation } from './api.ts';

export function idempotentOperations(store: Store, operations: Record<string, DaemonOperation>): Record<string, DaemonOperation> {
  const running = new Map<string, Promise<unknown>>();
  const wrapped: Record<string, DaemonOperation> = {};
  for (const [name, operation] of Object.entries(operations)) {
    wrapped[name] = async (body) => {
      const key = body.idempotencyKey;
      if (typeof key !== 'string') return operation(body);
      const { idempotencyKey: _key, ...request } = body;
      for (let earlier = running.get(key); earlier !== undefined; earlier = running.get(key)) await earlier.catch(() => undefined);
      const call = (async () => {
        const seen = await store.read((tx) => recall(tx, key, name, request));
        if (seen.hit) return seen.value;
        const result = await operation(body);
        // Looked up again in the write: an engine operation may have taken the key meanwhile; its record stays.
        await store
          .write(async (tx) => ((await recall(tx, key, name, request).catch(() => ({ hit: true }))).hit ? undefined : remember(tx, key, name, request, result)))
          .catch(() => undefined); // the change is made: answer it; unrecorded, a retry acts again (as after a crash)
        return result;
      })();
      running.set(key, call);
      try {
        return await call;
      } finally {
        if (running.get(key) === call) running.delete(key);
      }
    };
  }
  return wrapped;
}
