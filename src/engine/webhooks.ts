// Webhooks over the store: endpoints, and the durable outbox of their
// deliveries. The event log is written in the transaction of every change;
// each endpoint keeps a cursor (the last seq turned into its deliveries), and
// moving events past it into webhook_deliveries advances the cursor in the
// same transaction, so an event becomes a delivery exactly once, whatever
// dies when. A delivery is then sent until a 2xx (at least once: a daemon
// killed between the send and its record sends it again, same webhook-id).
// The daemon's worker (src/server/webhooks/) does the sending.
import { createHash, randomBytes } from 'node:crypto';
import { BatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit, eventFromRow, lastEventSeq, matchesTypes, type EventRow } from './events.ts';

/** What the store holds of an endpoint. */
export interface EndpointRow {
  [column: string]: unknown;
  id: string;
  url: string;
  events: string;
  secret: string;
  old_secret: string | null;
  old_secret_until: number | null;
  allow_private: number;
  disable_after_ms: number;
  cursor: number;
  created_at: number;
  failing_since: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
}

export interface DeliveryRow {
  [column: string]: unknown;
  id: string;
  endpoint_id: string;
  event_seq: number | null;
  event_type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_at: number;
  last_status: number | null;
  last_error: string | null;
  last_ms: number | null;
  outcomes: string;
  created_at: number;
  updated_at: number;
}

/** An endpoint as it is shown: never its secrets, only a fingerprint of the current one. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  allowPrivate: boolean;
  disableAfterMs: number;
  createdAt: number;
  /** The first failure since the last success, if it is failing. */
  failingSince: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
  /** sha256 of the current secret, 12 hex digits: tells two secrets apart, reveals nothing. */
  secretFingerprint: string;
  /** While the previous secret also signs: until when. */
  previousSecretUntil: number | null;
}

/** One attempt to send a delivery. */
export interface DeliveryOutcome {
  at: number;
  /** The HTTP status answered, or null when there was no answer. */
  status: number | null;
  error: string | null;
  ms: number;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventSeq: number | null;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  lastMs: number | null;
  /** The last attempts, oldest first (at most OUTCOMES_KEPT). */
  outcomes: DeliveryOutcome[];
  createdAt: number;
  updatedAt: number;
}

const OUTCOMES_KEPT = 10;
/** Events moved into an endpoint's outbox per transaction. */
const ENQUEUE_BATCH = 500;

export const fingerprint = (secret: string): string => `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
/** A Standard Webhooks message id: the `webhook-id` a receiver dedupes by. */
const messageId = (): string => `msg_${randomBytes(16).toString('base64url')}`;

export function endpointFromRow(row: EndpointRow, now: number): WebhookEndpoint {
  const overlapping = row.old_secret !== null && row.old_secret_until !== null && row.old_secret_until > now;
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    allowPrivate: row.allow_private === 1,
    disableAfterMs: row.disable_after_ms,
    createdAt: row.created_at,
    failingSince: row.failing_since,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    secretFingerprint: fingerprint(row.secret),
    previousSecretUntil: overlapping ? row.old_secret_until : null,
  };
}

export function deliveryFromRow(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventSeq: row.event_seq,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAt: row.status === 'pending' ? row.next_at : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastMs: row.last_ms,
    outcomes: JSON.parse(row.outcomes) as DeliveryOutcome[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export function signingSecrets(row: EndpointRow, now: number): string[] {
  return row.old_secret !== null && row.old_secret_until !== null && row.old_secret_until > now ? [row.secret, row.old_secret] : [row.secret];
}

/** The hostname of a stored URL, for events (a URL may carry a token in its path; events are readable more widely). */
const hostOf = (url: string): string => new URL(url).host;

async function endpointRow(tx: StoreTx, id: string): Promise<EndpointRow> {
  const row = await tx.get<EndpointRow>('webhookGet', { id });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no webhook endpoint ${JSON.stringify(id)} ('baton webhook list' shows them)`, { details: { id } });
  return row;
}

export interface NewEndpoint {
  url: string;
  events: string[];
  secret: string;
  allowPrivate: boolean;
  disableAfterMs: number;
}

/** Adds an endpoint: it receives the events committed from now on. */
export async function addEndpoint(tx: StoreTx, spec: NewEndpoint): Promise<WebhookEndpoint> {
  const id = `ep_${randomBytes(9).toString('base64url')}`;
  const cursor = await lastEventSeq(tx);
  const params = { id, url: spec.url, events: JSON.stringify(spec.events), secret: spec.secret, allowPrivate: spec.allowPrivate ? 1 : 0, disableAfterMs: spec.disableAfterMs, cursor, now: tx.now };
  await tx.run('webhookInsert', params);
  await emit(tx, 'webhook.added', id, null, { id, host: hostOf(spec.url), events: spec.events });
  return endpointFromRow(await endpointRow(tx, id), tx.now);
}

export async function removeEndpoint(tx: StoreTx, id: string): Promise<void> {
  const row = await endpointRow(tx, id);
  await tx.run('webhookDelete', { id });
  await tx.run('deliveriesOfEndpointDelete', { id });
  await emit(tx, 'webhook.removed', id, null, { id, host: hostOf(row.url) });
}

/** A new secret; the one it replaces still signs until now + overlapMs. */
export async function rotateSecret(tx: StoreTx, id: string, secret: string, overlapMs: number): Promise<WebhookEndpoint> {
  await endpointRow(tx, id);
  await tx.run('webhookRotate', { id, secret, until: tx.now + overlapMs });
  await emit(tx, 'webhook.rotated', id, null, { id, previousSecretUntil: tx.now + overlapMs });
  return endpointFromRow(await endpointRow(tx, id), tx.now);
}

export async function listEndpoints(tx: StoreTx): Promise<EndpointRow[]> {
  return tx.all<EndpointRow>('webhookList');
}

export async function getEndpoint(tx: StoreTx, id: string): Promise<EndpointRow> {
  return endpointRow(tx, id);
}

/** The body a delivery sends (Standard Webhooks' shape): type, timestamp, and the event as data. */
function payloadOf(type: string, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}

/**
 * Moves the endpoint's events past its cursor into its outbox, one batch, and
 * advances the cursor in the same transaction. True if there may be more.
 */
export async function enqueueEvents(tx: StoreTx, id: string): Promise<{ added: number; more: boolean }> {
  const row = await tx.get<EndpointRow>('webhookGet', { id }); // locked on PostgreSQL: one daemon moves an endpoint's events at a time
  if (row === undefined || row.disabled_at !== null) return { added: 0, more: false };
  const prefixes = JSON.parse(row.events) as string[];
  const rows = await tx.all<EventRow>('eventsAfter', { after: row.cursor, limit: ENQUEUE_BATCH });
  let added = 0;
  for (const eventRow of rows) {
    const event = eventFromRow(eventRow);
    if (!matchesTypes(event, prefixes)) continue;
    const params = { id: messageId(), endpointId: id, eventSeq: event.seq, eventType: event.type, payload: payloadOf(event.type, event.at, event), now: tx.now };
    added += (await tx.run('deliveryInsert', params)).changes;
  }
  const last = rows.at(-1);
  if (last !== undefined) await tx.run('webhookSetCursor', { id, cursor: last.seq });
  return { added, more: rows.length === ENQUEUE_BATCH };
}

/** A `webhook.test` delivery to one endpoint, due now (not in the event log: only this endpoint gets it). */
export async function addTestDelivery(tx: StoreTx, id: string): Promise<string> {
  const row = await endpointRow(tx, id);
  if (row.disabled_at !== null) {
    throw new BatonError('CONFLICT', `webhook endpoint ${id} is disabled (${row.disabled_reason ?? 'disabled'}): nothing is sent to it; remove it and add it again`, { details: { id } });
  }
  const delivery = messageId();
  const data = { endpointId: id, message: 'a test delivery from baton webhook test' };
  await tx.run('deliveryInsert', { id: delivery, endpointId: id, eventSeq: null, eventType: 'webhook.test', payload: payloadOf('webhook.test', tx.now, data), now: tx.now });
  return delivery;
}

/** Due deliveries, claimed for this node until `until` (another daemon skips them meanwhile). */
export async function claimDue(tx: StoreTx, nodeId: string, n: number, leaseMs: number): Promise<DeliveryRow[]> {
  return tx.all<DeliveryRow>('deliveryClaim', { nodeId, until: tx.now + leaseMs, n, now: tx.now });
}

/** When the next pending delivery is due (null: none). */
export async function nextDue(tx: StoreTx): Promise<number | null> {
  const row = await tx.get<{ at: number | null }>('deliveryNextDue', { now: tx.now });
  return row?.at ?? null;
}

export async function getDelivery(tx: StoreTx, id: string): Promise<WebhookDelivery | undefined> {
  const row = await tx.get<DeliveryRow>('deliveryGet', { id });
  return row === undefined ? undefined : deliveryFromRow(row);
}

export async function listDeliveries(tx: StoreTx, endpointId: string | null, limit: number): Promise<WebhookDelivery[]> {
  if (endpointId !== null) await endpointRow(tx, endpointId);
  return (await tx.all<DeliveryRow>('deliveryList', { endpointId, limit })).map(deliveryFromRow);
}

/** Delivered and given-up deliveries older than `before` go. */
export async function pruneDeliveries(tx: StoreTx, before: number): Promise<number> {
  return (await tx.run('deliveriesPrune', { before })).changes;
}

const succeeded = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

/**
 * Records an attempt: delivered on a 2xx; otherwise retried after the
 * schedule's next wait (jittered), or given up after its last. A 410 Gone
 * disables the endpoint at once, and so does failing without a success for
 * its disableAfterMs; either writes a webhook.disabled event.
 */
export async function recordAttempt(tx: StoreTx, row: DeliveryRow, outcome: DeliveryOutcome, schedule: readonly number[]): Promise<WebhookDelivery['status']> {
  const attempts = row.attempts + 1;
  const outcomes = JSON.stringify([...(JSON.parse(row.outcomes) as DeliveryOutcome[]), outcome].slice(-OUTCOMES_KEPT));
  const wait = schedule[attempts - 1];
  const status = succeeded(outcome.status) ? 'delivered' : outcome.status === 410 || wait === undefined ? 'failed' : 'pending';
  const nextAt = status === 'pending' ? tx.now + Math.round(wait! * (1 - 0.2 * Math.random())) : row.next_at;
  const params = { id: row.id, status, attempts, nextAt, lastStatus: outcome.status, lastError: outcome.error, lastMs: outcome.ms, outcomes, now: tx.now };
  if ((await tx.run('deliveryRecord', params)).changes === 0) return status; // recorded already (another daemon sent it too)
  const endpoint = await tx.get<EndpointRow>('webhookGet', { id: row.endpoint_id });
  if (endpoint === undefined) return status;
  if (status === 'delivered') {
    await tx.run('webhookHealthy', { id: endpoint.id });
    return status;
  }
  const since = endpoint.failing_since ?? outcome.at;
  await tx.run('webhookFailing', { id: endpoint.id, since });
  const reason = outcome.status === 410 ? 'the endpoint answered 410 Gone' : tx.now - since >= endpoint.disable_after_ms ? `failing since ${new Date(since).toISOString()}` : null;
  if (reason !== null && (await tx.run('webhookDisable', { id: endpoint.id, reason, now: tx.now })).changes > 0) {
    await emit(tx, 'webhook.disabled', endpoint.id, null, { id: endpoint.id, host: hostOf(endpoint.url), reason });
  }
  return status;
}
