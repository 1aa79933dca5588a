// The PostgreSQL statements of messages between agents, as in the SQLite
// store's message-queries.ts. Nothing here reads and then writes from what it
// read: marking read or acknowledged is one UPDATE whose WHERE is checked
// again on the locked row, so two acks of one message count once.
import { NOTABLE_MESSAGE_IMPORTANCES, NOTABLE_MESSAGE_KINDS } from '../../limits.ts';
import type { QueryName } from '../store.ts';

type MessageQuery = Extract<QueryName, `message${string}` | `inbox${string}` | `recipients${string}`>;

const entry = `SELECT m.id, m.thread, m.sender, m.subject, m.body, m.importance, m.kind, m.ref, m.created_at, r.read_at, r.acked_at
  FROM message_recipients AS r JOIN messages AS m ON m.id = r.message_id`;
const names = `jsonb_array_elements_text($names::jsonb) AS j(value)`;
const ids = `SELECT value::bigint FROM jsonb_array_elements_text($ids::jsonb) AS j(value)`;

/** Notable (limits.ts): what the MCP tools' next-call note counts. */
const quoted = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
const notable = `(m.importance IN (${quoted(NOTABLE_MESSAGE_IMPORTANCES)}) OR m.kind IN (${quoted(NOTABLE_MESSAGE_KINDS)}))`;

export const postgresMessageQueries: Record<MessageQuery, string> = {
  messageInsert: `INSERT INTO messages (thread, sender, subject, body, importance, kind, ref, created_at)
    VALUES ($thread, $sender, $subject, $body, $importance, $kind, $ref, $now) RETURNING id`,
  messageSetThread: `UPDATE messages SET thread = 'm' || id WHERE id = $id`,
  recipientsInsert: `INSERT INTO message_recipients (recipient, message_id) SELECT value, $id::bigint FROM ${names}`,
  messageNamesKnown: `SELECT value AS name FROM ${names} WHERE value IN (SELECT name FROM sessions)
    OR value IN (SELECT owner FROM leases) OR value IN (SELECT recipient FROM message_recipients) OR value IN (SELECT sender FROM messages)`,
  messageKnownNames: `SELECT name FROM sessions UNION SELECT owner FROM leases UNION SELECT recipient FROM message_recipients
    UNION SELECT sender FROM messages LIMIT $limit`,
  inboxList: `${entry} WHERE r.recipient = $agent AND r.message_id > $after AND ($unread::int = 0 OR r.read_at IS NULL)
    AND ($thread::text IS NULL OR m.thread = $thread) AND ($notable::int = 0 OR ${notable})
    ORDER BY r.message_id LIMIT $limit`,
  inboxGet: `${entry} JOIN jsonb_array_elements_text($ids::jsonb) WITH ORDINALITY AS j(value, ord) ON j.value::bigint = r.message_id
    WHERE r.recipient = $agent ORDER BY j.ord`,
  inboxMarkRead: `UPDATE message_recipients SET read_at = $now WHERE recipient = $agent AND read_at IS NULL AND message_id IN (${ids})`,
  inboxMarkAcked: `UPDATE message_recipients SET acked_at = $now, read_at = COALESCE(read_at, $now)
    WHERE recipient = $agent AND acked_at IS NULL AND message_id IN (${ids}) RETURNING message_id`,
  // As SQLite's: through message_recipients_acked, then only the messages just pruned from an inbox ($ids).
  recipientsPruneAcked: `DELETE FROM message_recipients WHERE acked_at IS NOT NULL AND acked_at < $before RETURNING message_id`,
  // = ANY of an array: the primary key's index (IN over the JSON set planned a scan of messages with a hash join).
  messagesPruneOrphans: `DELETE FROM messages WHERE id = ANY (ARRAY(${ids}))
    AND NOT EXISTS (SELECT 1 FROM message_recipients AS r WHERE r.message_id = messages.id)`,
};
