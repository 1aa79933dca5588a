// Announcing commits to other nodes: after a write commits, one NOTIFY on the
// channel listener.ts listens on, sent outside the transaction. NOTIFY at
// commit takes a database-wide lock, so one per transaction would serialise
// every node's commits; here a node has at most one NOTIFY in flight and
// folds every commit made meanwhile into the next one. The payload (this
// store's tag) only lets the sender skip its own. A NOTIFY lost to a crash
// right after a commit costs a waiter one poll interval, never correctness.
import type { Pool } from 'pg';
import { CHANNEL } from './listener.ts';

export class Notifier {
  readonly #pool: Pool;
  readonly #tag: string;
  readonly #channel: string;
  #sending = false;
  #again = false;
  #closed = false;
  #inFlight: Promise<void> = Promise.resolve();
  /** NOTIFYs sent, and commits folded into them. */
  readonly stats = { sent: 0, commits: 0 };

  constructor(pool: Pool, tag: string, channel = CHANNEL) {
    this.#channel = channel;
    this.#pool = pool;
    this.#tag = tag;
  }

  /** A write committed. */
  committed(): void {
    this.stats.commits++;
    if (this.#closed) return;
    if (this.#sending) {
      this.#again = true;
      return;
    }
    this.#inFlight = this.#send();
  }

  async #send(): Promise<void> {
    this.#sending = true;
    try {
      do {
        this.#again = false;
        this.stats.sent++;
        await this.#pool.query({ name: 'baton_notify', text: 'SELECT pg_notify($1, $2)', values: [this.#channel, this.#tag] }).catch(() => undefined);
      } while (this.#again && !this.#closed);
    } finally {
      this.#sending = false;
    }
  }

  /** Stops announcing; resolves once the NOTIFY in flight (if any) is done. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#inFlight;
  }
}
