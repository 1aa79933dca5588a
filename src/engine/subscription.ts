// Following the event log: a subscription polls the store's change counter
// (every 10 to 30 ms) and, when it moved, reads the events after the last one
// it handed over, a page at a time. A store told of every commit (the
// daemon's writer) wakes it instead of the timer.
import type { BatonEvent, EventQuery, Subscription } from '../coordinator.ts';
import { checkEventQuery, lastEventSeq, matchesTypes, readEvents, type CheckedQuery } from './events.ts';
import { invalid } from './validate.ts';
import type { Transactions } from './waiting.ts';

/** Events read at a time while catching up. */
const PAGE = 1000;

/** Checked here, not in the poll: a mistake there would only be retried at every tick, never seen. */
export function checkSubscription(handler: unknown, query: EventQuery): CheckedQuery {
  if (typeof handler !== 'function') throw invalid('subscribe needs a handler function');
  return checkEventQuery(query, -1);
}

/** Hands `handler` every event after `query.after` (-1: from the end of the log) until closed; `open` holds it meanwhile. */
export function follow(db: Transactions, handler: (event: BatonEvent) => void, query: CheckedQuery, open: Set<Subscription>): Subscription {
  const types = query.types;
  let after = query.after;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let counter = -1;
  const subscription = {
    close: () => {
      closed = true;
      clearTimeout(timer);
      open.delete(subscription);
    },
  };
  open.add(subscription);
  const poll = async (): Promise<void> => {
    if (closed) return;
    try {
      if (after < 0) after = await db.read(lastEventSeq);
      const now = await db.store.changeCounter();
      if (now !== counter) {
        counter = now;
        for (;;) {
          const batch = await db.read((tx) => readEvents(tx, { after, limit: PAGE, types: undefined }));
          for (const event of batch) {
            after = event.seq;
            if (!closed && matchesTypes(event, types)) handler(event);
          }
          if (batch.length < PAGE) break;
        }
      }
    } catch {
      // the store is closing or busy: try again at the next tick
    }
    if (closed) return;
    if (db.store.waitForCommit !== undefined) {
      // Told of every commit (the daemon's writer): no polling.
      db.store.waitForCommit(counter, 1000).then(() => void poll(), () => void poll());
      return;
    }
    timer = setTimeout(() => void poll(), 10 + Math.random() * 20);
    timer.unref();
  };
  void poll();
  return subscription;
}
