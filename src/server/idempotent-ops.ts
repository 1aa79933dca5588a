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

/** A daemon operation: one body in (with its idempotency key, if any), one result out. */
type Operation = (body: { idempotencyKey?: string | undefined }) => Promise<unknown>;

export function idempotentOperations<T extends Record<keyof T, (body: never) => Promise<unknown>>>(store: Store, operations: T): T {
  const running = new Map<string, Promise<unknown>>();
  const wrapped: Partial<Record<keyof T, Operation>> = {};
  for (const name of Object.keys(operations) as Array<keyof T & string>) {
    // Each takes its own body; all that is read here is the idempotency key every body may carry.
    const operation = operations[name] as unknown as Operation;
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
  // Each wrapper answers what its operation answers (or the first answer to its key).
  return wrapped as unknown as T;
}
