// The daemon's webhook operations (POST /v1/webhookAdd, ...): each checks
// what it is given before anything is stored, then one transaction of
// src/engine/webhooks.ts. A secret is made here, answered once by add and by
// rotate, and otherwise never leaves the store.
import { checkEventPrefixes } from '../../engine/event-types.ts';
import { pause } from '../../files/pause.ts';
import {
  addEndpoint, addTestDelivery, endpointFromRow, getDelivery, listDeliveries, listEndpoints, removeEndpoint, rotateSecret, type WebhookDelivery,
} from '../../engine/webhooks.ts';
import { BatonError } from '../../errors.ts';
import { DEFAULT_LIST_LIMIT, DEFAULT_WEBHOOK_DISABLE_AFTER_MS, DEFAULT_WEBHOOK_SECRET_OVERLAP_MS, MAX_WEBHOOK_EVENTS } from '../../limits.ts';
import type { DaemonOperations } from '../../protocol/daemon-operations.ts';
import type { Store } from '../../stores/store.ts';
import { newSecret } from './signature.ts';
import { parseWebhookUrl, resolveTarget } from './url-guard.ts';
import type { WebhookWorker } from './worker.ts';

type WebhookOperations = Pick<DaemonOperations, 'webhookAdd' | 'webhookList' | 'webhookRemove' | 'webhookRotate' | 'webhookTest' | 'webhookDeliveries'>;


export function webhookOperations(store: Store, worker: WebhookWorker): WebhookOperations {
  return {
    async webhookAdd({ url: raw, events = [], allowPrivate = false, disableAfterMs = DEFAULT_WEBHOOK_DISABLE_AFTER_MS }) {
      const url = parseWebhookUrl(raw);
      if (events.length > MAX_WEBHOOK_EVENTS) throw new BatonError('INVALID_ARGUMENT', `a webhook takes at most ${MAX_WEBHOOK_EVENTS} event prefixes, got ${events.length}`);
      const prefixes = checkEventPrefixes(events);
      if (allowPrivate && !worker.allowPrivate) {
        throw new BatonError('PERMISSION_DENIED', "this daemon does not deliver to private addresses: start it with 'baton serve --webhooks-allow-private' to allow --allow-private endpoints");
      }
      await resolveTarget(url, allowPrivate);
      const secret = newSecret();
      const endpoint = await store.write((tx) => addEndpoint(tx, { url: url.href, events: prefixes, secret, allowPrivate, disableAfterMs }));
      worker.poke();
      return { endpoint, secret };
    },
    async webhookList() {
      return store.read(async (tx) => (await listEndpoints(tx)).map((row) => endpointFromRow(row, tx.now)));
    },
    async webhookRemove({ id }) {
      await store.write((tx) => removeEndpoint(tx, id));
      return null;
    },
    async webhookRotate({ id, overlapMs = DEFAULT_WEBHOOK_SECRET_OVERLAP_MS }) {
      const secret = newSecret();
      const endpoint = await store.write((tx) => rotateSecret(tx, id, secret, overlapMs));
      return { endpoint, secret };
    },
    /** Queues a webhook.test delivery and waits for its first attempt (or the request deadline's worth), then answers it. */
    async webhookTest({ id }) {
      const delivery = await store.write((tx) => addTestDelivery(tx, id));
      worker.poke();
      const deadline = Date.now() + worker.timeoutMs + 5_000;
      let seen: WebhookDelivery | undefined;
      for (;;) {
        seen = await store.read((tx) => getDelivery(tx, delivery));
        if (seen === undefined) throw new BatonError('NOT_FOUND', `the test delivery ${delivery} is gone (its endpoint was removed)`);
        if (seen.attempts > 0 || Date.now() >= deadline) return seen;
        await pause(50);
      }
    },
    async webhookDeliveries({ endpointId, limit = DEFAULT_LIST_LIMIT }) {
      return store.read((tx) => listDeliveries(tx, endpointId ?? null, limit));
    },
  };
}
