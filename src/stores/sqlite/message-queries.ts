// The SQLite statements of messages between agents (src/engine/messages.ts
// has the rules). A message is one row; each recipient's inbox entry, with
// its read and acknowledged times, another. Lists of names and ids travel
// as JSON arrays ($names, $ids).
import { NOTABLE_MESSAGE_IMPORTANCES, NOTABLE_MESSAGE_KINDS } from '../../limits.ts';
import type { QueryName } from '../store.ts';

type MessageQuery = Extract<QueryName, `message${string}` | `inbox${string}` | `recipients${string}`>;

const entry = `SELECT m.id, m.thread, m.sender, m.subject, m.body, m.importance, m.kind, m.ref, m.created_at, r.read_at, r.acked_at
  FROM message_recipients AS r JOIN messages AS m ON m.id = r.message_id`;

/** Notable (limits.ts): what the MCP tools' next-call note counts. */
const quoted = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
const notable = `(m.importance IN (${quoted(NOTABLE_MESSAGE_IMPORTANCES)}) OR m.kind IN (${quoted(NOTABLE_MESSAGE_KINDS)}))`;

export const sqliteMessageQueries: Record<MessageQuery, string> = {
  messageInsert: `INSERT INTO messages (thread, sender, subject, body, importance, kind, ref, created_at)
    VALUES ($thread, $sender, $subject, $body, $importance, $kind, $ref, $now)`,
  // A message that starts a thread names it after itself.
  messageSetThread: `UPDATE messages SET thread = 'm' || id WHERE id = $id`,
  recipientsInsert: `INSERT INTO message_recipients (recipient, message_id) SELECT value, $id FROM json_each($names)`,
  // A name is known if a session, a lease, an inbox or a sent message has it.
  messageNamesKnown: `SELECT value AS name FROM json_each($names) WHERE value IN (SELECT name FROM sessions)
    OR value IN (SELECT owner FROM leases) OR value IN (SELECT recipient FROM message_recipients) OR value IN (SELECT sender FROM messages)`,
  messageKnownNames: `SELECT name FROM sessions UNION SELECT owner FROM leases UNION SELECT recipient FROM message_recipients
    UNION SELECT sender FROM messages LIMIT $limit`,
  inboxList: `${entry} WHERE r.recipient = $agent AND r.message_id > $after AND ($unread = 0 OR r.read_at IS NULL)
    AND ($thread IS NULL OR m.thread = $thread) AND ($notable = 0 OR ${notable})
    ORDER BY r.message_id LIMIT $limit`,
  inboxGet: `${entry} JOIN json_each($ids) AS j ON j.value = r.message_id WHERE r.recipient = $agent ORDER BY j.key`,
  inboxMarkRead: `UPDATE message_recipients SET read_at = $now
    WHERE recipient = $agent AND read_at IS NULL AND message_id IN (SELECT value FROM json_each($ids))`,
  inboxMarkAcked: `UPDATE message_recipients SET acked_at = $now, read_at = COALESCE(read_at, $now)
    WHERE recipient = $agent AND acked_at IS NULL AND message_id IN (SELECT value FROM json_each($ids)) RETURNING message_id`,
  // Through message_recipients_acked; then, of the messages just pruned from an inbox ($ids), those in no inbox any more.
  recipientsPruneAcked: `DELETE FROM message_recipients WHERE acked_at IS NOT NULL AND acked_at < $before RETURNING message_id`,
  messagesPruneOrphans: `DELETE FROM messages WHERE id IN (SELECT value FROM json_each($ids))
    AND NOT EXISTS (SELECT 1 FROM message_recipients AS r WHERE r.message_id = messages.id)`,
};
