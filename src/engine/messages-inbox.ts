// Messages between agents: an agent's inbox, read and acknowledged state per
// recipient, and pruning (messages.ts sends). Oldest first, paged by id:
// ids increase in commit order on both stores (deliver's lock), so a reader
// that pages with `after` never skips a message.
import type { InboxEntry, InboxOptions, MessageImportance, MessageKind } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { DEFAULT_INBOX_LIMIT, MAX_INBOX_LIMIT } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { checkName } from './messages.ts';
import { invalid, optionalInt, requireInt, show } from './validate.ts';

interface EntryRow {
  [column: string]: unknown;
  id: number;
  thread: string;
  sender: string;
  subject: string;
  body: string;
  importance: MessageImportance;
  kind: MessageKind;
  ref: string | null;
  created_at: number;
  read_at: number | null;
  acked_at: number | null;
}

export interface CheckedInbox {
  agent: string;
  unread: boolean;
  after: number;
  thread: string | null;
  limit: number;
  /** Only what the MCP tools' next-call note counts: high and urgent messages, release requests and their answers. */
  notable: boolean;
}

function entryFromRow(row: EntryRow): InboxEntry {
  return {
    id: Number(row.id), thread: row.thread, from: row.sender, subject: row.subject, body: row.body, importance: row.importance, kind: row.kind,
    ref: row.ref, at: Number(row.created_at), readAt: row.read_at === null ? null : Number(row.read_at), ackedAt: row.acked_at === null ? null : Number(row.acked_at),
  };
}

const INBOX_FIELDS = new Set(['unread', 'after', 'thread', 'notable', 'limit']);

export function checkInbox(agent: unknown, options: InboxOptions | undefined): CheckedInbox {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(`inbox options must be an object { unread?, after?, thread?, notable?, limit? }, not ${show(o)}`);
  for (const [name, value] of Object.entries(o)) {
    if (value !== undefined && !INBOX_FIELDS.has(name)) throw invalid(`inbox options have no field ${JSON.stringify(name)}; they take unread, after, thread, notable and limit`);
  }
  for (const flag of ['unread', 'notable'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') throw invalid(`${flag} must be true or false, not ${show(o[flag])}`);
  }
  return {
    agent: checkName('agent', agent),
    unread: o.unread === true,
    after: optionalInt('after', o.after, 0),
    thread: o.thread === undefined || o.thread === null ? null : checkName('thread', o.thread),
    limit: optionalInt('limit', o.limit, DEFAULT_INBOX_LIMIT, { min: 1, max: MAX_INBOX_LIMIT }),
    notable: o.notable === true,
  };
}

/** An agent and message ids to read or acknowledge: each id once, in the order first named. */
export function checkIds(agent: unknown, ids: unknown): { agent: string; ids: number[] } {
  const name = checkName('agent', agent);
  if (!Array.isArray(ids) || ids.length === 0) throw invalid(`ids must be a non-empty array of message ids, not ${show(ids)}`);
  if (ids.length > MAX_INBOX_LIMIT) throw invalid(`at most ${MAX_INBOX_LIMIT} message ids at once, not ${ids.length}`);
  return { agent: name, ids: [...new Set(ids.map((id: unknown, i) => requireInt(`ids[${i}]`, id, { min: 1 })))] };
}

export async function inbox(tx: StoreTx, q: CheckedInbox): Promise<InboxEntry[]> {
  const rows = await tx.all<EntryRow>('inboxList', {
    agent: q.agent, after: q.after, unread: q.unread ? 1 : 0, thread: q.thread, notable: q.notable ? 1 : 0, limit: q.limit,
  });
  return rows.map(entryFromRow);
}

/** The entries of `ids` in the agent's inbox, in that order; NOT_FOUND names the first that is not there. */
async function entries(tx: StoreTx, agent: string, ids: number[]): Promise<EntryRow[]> {
  const rows = await tx.all<EntryRow>('inboxGet', { agent, ids: JSON.stringify(ids) });
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => Number(r.id)));
    const missing = ids.find((id) => !found.has(id));
    throw new BatonError('NOT_FOUND', `message ${missing} is not in ${JSON.stringify(agent)}'s inbox (never sent to it, or acknowledged and pruned)`, {
      details: { agent, id: missing },
    });
  }
  return rows;
}

/** Marks the messages read (the first read time stays) and returns them as read now. */
export async function readMessages(tx: StoreTx, agent: string, ids: number[]): Promise<InboxEntry[]> {
  await entries(tx, agent, ids);
  tx.defer('inboxMarkRead', { agent, ids: JSON.stringify(ids), now: tx.now });
  return (await tx.all<EntryRow>('inboxGet', { agent, ids: JSON.stringify(ids) })).map(entryFromRow);
}

/** Marks the messages acknowledged (and read); one already acknowledged stays as it was. Returns how many were newly acknowledged. */
export async function ackMessages(tx: StoreTx, agent: string, ids: number[]): Promise<number> {
  const rows = await entries(tx, agent, ids);
  const acked = await tx.all<{ message_id: number }>('inboxMarkAcked', { agent, ids: JSON.stringify(ids), now: tx.now });
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  for (const { message_id } of acked) {
    const row = byId.get(Number(message_id));
    if (row !== undefined) await emit(tx, 'message.acked', row.thread, agent, { id: row.id, thread: row.thread, from: row.sender, by: agent });
  }
  return acked.length;
}

/**
 * Acknowledged inbox entries older than the event retention go, and then
 * messages nobody's inbox holds any more. Unacknowledged entries stay, read
 * or not: nothing an agent has not acknowledged disappears.
 */
export async function pruneMessages(tx: StoreTx, maxAgeMs: number): Promise<number> {
  const before = tx.now - maxAgeMs;
  // Only the messages just pruned from an inbox can have become orphans: no scan of all messages.
  const pruned = await tx.all<{ message_id: number }>('recipientsPruneAcked', { before });
  if (pruned.length > 0) await tx.run('messagesPruneOrphans', { ids: JSON.stringify([...new Set(pruned.map((r) => Number(r.message_id)))]) });
  return pruned.length;
}
