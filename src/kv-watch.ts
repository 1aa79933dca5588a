// Watching shared state, the same for every Coordinator (the engine, the
// daemon's client): a subscription to the kv.put and kv.deleted events, whose
// seqs are the changes' revisions. Resuming from a revision reads the log
// after it; if the events just after it were pruned (the log's retention:
// etcd calls it compaction), the watch says so with one `compacted` change and
// ends, for the caller to read the state again (kvList) and watch from there.
import type { BatonEvent, Coordinator, KvChange, KvWatchOptions, Subscription } from './coordinator.ts';
import { BatonError } from './errors.ts';
import { MAX_KEY_LENGTH } from './limits.ts';

type Filter = (key: string) => boolean;

function bad(message: string): BatonError {
  return new BatonError('INVALID_ARGUMENT', message);
}

/** Checked at once (not in the stream, where a mistake would only show as silence). */
function checkWatch(handler: unknown, options: unknown): { filter: Filter; fromRevision: number | undefined } {
  if (typeof handler !== 'function') throw bad('kvWatch needs a handler function');
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw bad('kvWatch needs options { key } or { prefix }, with fromRevision if resuming');
  const { key, prefix, fromRevision, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest).find((k) => rest[k] !== undefined);
  if (unknown !== undefined) throw bad(`kvWatch has no option ${JSON.stringify(unknown)}; it takes key, prefix and fromRevision`);
  if (key !== undefined && prefix !== undefined) throw bad('kvWatch takes a key or a prefix, not both');
  for (const [name, v] of [['key', key], ['prefix', prefix]] as const) {
    if (v !== undefined && (typeof v !== 'string' || v.length > MAX_KEY_LENGTH)) throw bad(`${name} must be a string of at most ${MAX_KEY_LENGTH} characters`);
  }
  if (key === '') throw bad('key must be a non-empty string');
  if (fromRevision !== undefined && (typeof fromRevision !== 'number' || !Number.isSafeInteger(fromRevision) || fromRevision < 0)) {
    throw bad(`fromRevision must be an integer of at least 0, not ${String(fromRevision)}`);
  }
  const filter: Filter = typeof key === 'string' ? (k) => k === key : (k) => k.startsWith(typeof prefix === 'string' ? prefix : '');
  return { filter, fromRevision: fromRevision as number | undefined };
}

/** A kv event as the change it records (the event's seq is its revision). */
export function changeFromEvent(event: BatonEvent): KvChange | null {
  const d = event.data as Record<string, unknown>;
  if (typeof d.key !== 'string') return null;
  if (event.type === 'kv.put') {
    return {
      type: 'put', key: d.key, value: d.value, revision: event.seq, createRevision: d.createRevision as number, version: d.version as number,
      lease: (d.lease ?? null) as { key: string; token: number } | null,
    };
  }
  if (event.type === 'kv.deleted') {
    return { type: 'delete', key: d.key, revision: event.seq, prevRevision: d.prevRevision as number, reason: d.reason === 'lease ended' ? 'lease ended' : 'deleted' };
  }
  return null;
}

export function watchKv(coordinator: Coordinator, handler: (change: KvChange) => void, options: KvWatchOptions): Subscription {
  const { filter, fromRevision } = checkWatch(handler, options);
  let closed = false;
  let inner: Subscription | undefined;
  const follow = (after: number | undefined): void => {
    if (closed) return;
    inner = coordinator.subscribe(
      (event) => {
        const change = changeFromEvent(event);
        if (change !== null && change.type !== 'compacted' && filter(change.key)) handler(change);
      },
      { ...(after === undefined ? {} : { after }), types: ['kv.'] },
    );
  };
  const subscription: Subscription = {
    close: () => {
      closed = true;
      inner?.close();
    },
  };
  if (fromRevision === undefined) {
    follow(undefined);
    return subscription;
  }
  // The log has no gaps but at its start (pruning takes the oldest): the first event after fromRevision is fromRevision + 1, unless pruned.
  coordinator.events({ after: fromRevision, limit: 1 }).then(
    ([first]) => {
      if (closed) return;
      if (first !== undefined && first.seq > fromRevision + 1) {
        closed = true;
        handler({ type: 'compacted', fromRevision, compactRevision: first.seq - 1 });
        return;
      }
      follow(fromRevision);
    },
    // The log could not be read now: follow anyway (the subscription retries its reads).
    () => follow(fromRevision),
  );
  return subscription;
}
