// The SQLite statements of webhooks: endpoints, and the durable outbox of
// their deliveries (src/engine/webhooks.ts has the rules).
import type { QueryName } from '../store.ts';

type WebhookQuery = Extract<QueryName, `webhook${string}` | `deliver${string}`>;

/** A claimed delivery's node still lives: its claim holds until locked_until. */
const claimHeld = `d.locked_until > $now AND EXISTS (SELECT 1 FROM nodes AS n WHERE n.id = d.locked_by AND n.ended_at IS NULL AND n.heartbeat_at + n.ttl_ms > $now)`;
const due = `FROM webhook_deliveries AS d JOIN webhook_endpoints AS e ON e.id = d.endpoint_id
  WHERE d.status = 'pending' AND e.disabled_at IS NULL`;

export const sqliteWebhookQueries: Record<WebhookQuery, string> = {
  webhookInsert: `INSERT INTO webhook_endpoints (id, url, events, secret, allow_private, disable_after_ms, cursor, created_at)
    VALUES ($id, $url, $events, $secret, $allowPrivate, $disableAfterMs, $cursor, $now)`,
  webhookGet: `SELECT * FROM webhook_endpoints WHERE id = $id`,
  webhookList: `SELECT * FROM webhook_endpoints ORDER BY created_at, id`,
  webhookDelete: `DELETE FROM webhook_endpoints WHERE id = $id`,
  webhookSetCursor: `UPDATE webhook_endpoints SET cursor = $cursor WHERE id = $id AND cursor < $cursor`,
  webhookRotate: `UPDATE webhook_endpoints SET old_secret = secret, old_secret_until = $until, secret = $secret WHERE id = $id`,
  webhookFailing: `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $since) WHERE id = $id`,
  webhookHealthy: `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $id AND failing_since IS NOT NULL`,
  webhookDisable: `UPDATE webhook_endpoints SET disabled_at = $now, disabled_reason = $reason WHERE id = $id AND disabled_at IS NULL`,

  deliveryInsert: `INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, event_type, payload, status, attempts, next_at, outcomes, created_at, updated_at)
    VALUES ($id, $endpointId, $eventSeq, $eventType, $payload, 'pending', 0, $now, '[]', $now, $now) ON CONFLICT DO NOTHING`,
  deliveryGet: `SELECT * FROM webhook_deliveries WHERE id = $id`,
  deliveryList: `SELECT * FROM webhook_deliveries WHERE ($endpointId IS NULL OR endpoint_id = $endpointId)
    ORDER BY created_at DESC, event_seq DESC LIMIT $limit`,
  // Due, of an enabled endpoint, and not held by a live node's claim: a dead daemon's claims come back when its node lapses.
  deliveryClaim: `UPDATE webhook_deliveries SET locked_by = $nodeId, locked_until = $until
    WHERE id IN (SELECT d.id ${due} AND d.next_at <= $now AND NOT (${claimHeld}) ORDER BY d.next_at LIMIT $n) RETURNING *`,
  deliveryRecord: `UPDATE webhook_deliveries SET status = $status, attempts = $attempts, next_at = $nextAt, locked_by = NULL, locked_until = NULL,
    last_status = $lastStatus, last_error = $lastError, last_ms = $lastMs, outcomes = $outcomes, updated_at = $now
    WHERE id = $id AND status = 'pending'`,
  deliveryNextDue: `SELECT MIN(CASE WHEN ${claimHeld} THEN MAX(d.next_at, d.locked_until) ELSE d.next_at END) AS at ${due}`,
  deliveriesOfEndpointDelete: `DELETE FROM webhook_deliveries WHERE endpoint_id = $id`,
  deliveriesPrune: `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $before`,
};
