// The durable event log: every state change appends one event in the same
// transaction, so the log and the state never disagree.
import type { BatonEvent, PublishOptions } from '../coordinator.ts';
import { DEFAULT_LIST_LIMIT, EVENT_TYPE_PATTERN, MAX_KEY_LENGTH, MAX_LIST_LIMIT, MAX_NAME_LENGTH } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { stamp } from './actor.ts';
import { checkJson, invalid, requireInt, requireString, show } from './validate.ts';

export interface EventRow {
  [column: string]: unknown;
  seq: number;
  at: number;
  type: string;
  key: string | null;
  actor: string | null;
  data: string;
}

/** Appends one event (deferred: nothing waits for it; a failure fails the transaction). */
export async function emit(tx: StoreTx, type: string, key: string | null, actor: string | null, data: Record<string, unknown> = {}): Promise<void> {
  const who = stamp(tx, actor, data);
  tx.defer('eventInsert', { now: tx.now, type, key, actor: who.actor, data: JSON.stringify(who.data) });
}

export function eventFromRow(row: EventRow): BatonEvent {
  return { seq: row.seq, at: row.at, type: row.type, key: row.key, actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> };
}

export function matchesTypes(event: BatonEvent, types: string[] | undefined): boolean {
  return types === undefined || types.length === 0 || types.some((t) => event.type === t || (t.endsWith('.') && event.type.startsWith(t)) || (t.endsWith('*') && event.type.startsWith(t.slice(0, -1))));
}

export interface CheckedQuery {
  after: number;
  limit: number;
  types: string[] | undefined;
}

const QUERY_FIELDS = new Set(['after', 'limit', 'types']);

/** An event query, checked before anything is read; `minAfter` -1 lets a subscription start at the end of the log. */
export function checkEventQuery(query: unknown, minAfter = 0): CheckedQuery {
  if (query === undefined) query = {};
  if (typeof query !== 'object' || query === null || Array.isArray(query)) throw invalid(`an event query must be an object { after?, limit?, types? }, not ${show(query)}`);
  const q = query as Record<string, unknown>;
  for (const [name, value] of Object.entries(q)) {
    if (value !== undefined && !QUERY_FIELDS.has(name)) throw invalid(`an event query has no field ${JSON.stringify(name)}; it takes after, limit and types`);
  }
  const types = q.types;
  if (types !== undefined && !Array.isArray(types)) throw invalid(`types must be an array of type prefixes like ['task.'], not ${show(types)}`);
  return {
    after: requireInt('after', q.after ?? (minAfter < 0 ? -1 : 0), { min: minAfter }),
    limit: requireInt('limit', q.limit ?? DEFAULT_LIST_LIMIT, { min: 1, max: MAX_LIST_LIMIT }),
    types: types?.map((t: unknown, i) => requireString(`types[${i}]`, t, { max: MAX_NAME_LENGTH })),
  };
}

/** An event a caller publishes: `key` and `actor` null if none, `data` {} if none. */
export interface NewEvent {
  type: string;
  key: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

export function checkPublish(event: PublishOptions): NewEvent {
  if (typeof event !== 'object' || event === null) throw invalid('publish needs { type, data? }');
  const type = requireString('type', event.type, { max: MAX_NAME_LENGTH });
  if (!EVENT_TYPE_PATTERN.test(type)) throw invalid(`type must be dotted words like "build.finished", got ${JSON.stringify(type)}`);
  const key = event.key === undefined || event.key === null ? null : requireString('key', event.key, { max: MAX_KEY_LENGTH });
  const actor = event.actor === undefined || event.actor === null ? null : requireString('actor', event.actor, { max: MAX_NAME_LENGTH });
  const data = event.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('data must be an object');
  checkJson('data', data);
  return { type, key, actor, data };
}

export async function publish(tx: StoreTx, { type, key, actor, data }: NewEvent): Promise<BatonEvent> {
  const { lastId: seq } = await tx.run('eventInsert', { now: tx.now, type, key, actor, data: JSON.stringify(data) });
  return { seq, at: tx.now, type, key, actor, data };
}

/** The events after `after`, of the types asked for, at most `limit`. */
export async function readEvents(tx: StoreTx, { after, limit, types }: CheckedQuery): Promise<BatonEvent[]> {
  const out: BatonEvent[] = [];
  let from = after;
  // Filtering by type happens here, so keep reading until the page is full or the log ends.
  for (;;) {
    const rows = await tx.all<EventRow>('eventsAfter', { after: from, limit });
    for (const row of rows) {
      const event = eventFromRow(row);
      if (matchesTypes(event, types)) out.push(event);
      if (out.length >= limit) return out;
    }
    if (rows.length < limit) return out;
    from = rows.at(-1)!.seq;
  }
}

export interface Retention {
  /** Events older than this are pruned. Default 7 days. */
  maxAgeMs: number;
  /** At most this many newest events are kept. Default 100,000. */
  maxCount: number;
}

/** The seq of the newest event (0 when there is none yet). */
export async function lastEventSeq(tx: StoreTx): Promise<number> {
  return (await tx.get<{ seq: number }>('eventsMaxSeq'))!.seq;
}

export async function pruneEvents(tx: StoreTx, retention: Retention): Promise<number> {
  let pruned = (await tx.run('eventsPruneAge', { before: tx.now - retention.maxAgeMs })).changes;
  const max = await lastEventSeq(tx);
  // The newest event always stays, whatever the retention: the next seq is the highest kept + 1.
  const below = Math.min(max - retention.maxCount, max - 1);
  if (below > 0) pruned += (await tx.run('eventsPruneCount', { below })).changes;
  return pruned;
}
