// Wake-ups from other nodes: one connection per store, outside the pool, that
// LISTENs on the channel every commit is announced on (notifier.ts). The
// payload is only a hint: whoever is woken reads the database. A listener can
// go deaf without an error (a half-open socket, a server restart, a
// pg_terminate_backend), so it is asked `SELECT 1` every few seconds; on any
// failure it reconnects with backoff, LISTENs again, and wakes everyone once
// (the catch-up read). While it is down, waiters poll (postgres-store.ts).
// It must reach PostgreSQL directly or through a session-mode pooler: a
// transaction-mode pooler (PgBouncer pool_mode=transaction) drops LISTEN.
import type { Client } from 'pg';
import { clientConfig, loadDriver } from './connection.ts';

export const CHANNEL = 'baton_changes';
/** The channel of a store in `schema`: the home schema's is CHANNEL; another project's schema has its own, so its commits wake only its waiters. */
export const channelFor = (schema: string): string => (schema === 'baton' ? CHANNEL : `${schema}_changes`);

export interface ListenerOptions {
  /** How often the connection is checked. */
  heartbeatMs: number;
  /** How long the check may take before the connection is given up. */
  heartbeatTimeoutMs: number;
}

export class Listener {
  readonly #url: string;
  readonly #own: string;
  readonly #onChange: () => void;
  readonly #options: ListenerOptions;
  readonly #channel: string;
  #client: Client | undefined;
  #up = false;
  #closed = false;
  #starting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Times the listener (re)connected, and notifications from others: for tests and status. */
  readonly stats = { connects: 0, notifications: 0 };

  /** `own`: the payload this store's own notifier sends, ignored here (its waiters were woken at commit). */
  constructor(url: string, own: string, onChange: () => void, options: ListenerOptions, channel = CHANNEL) {
    this.#channel = channel;
    this.#url = url;
    this.#own = own;
    this.#onChange = onChange;
    this.#options = options;
  }

  /** Whether notifications arrive now; false: waiters must poll. */
  get up(): boolean {
    return this.#up;
  }

  /** Starts listening if it is not already (idempotent). */
  start(): void {
    if (this.#closed || this.#client !== undefined || this.#starting !== undefined) return;
    this.#starting = this.#connect().finally(() => (this.#starting = undefined));
  }

  async #connect(): Promise<void> {
    const pg = await loadDriver();
    const client = new pg.Client(clientConfig(pg, this.#url, 'baton-listener'));
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || message.payload === this.#own) return;
      this.stats.notifications++;
      this.#onChange();
    });
    this.#client = client;
    try {
      await client.connect();
      // A standby after a failover takes no LISTEN ("cannot execute LISTEN during recovery"): wait for a primary.
      const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (recovery.rows[0]?.r === true) throw new Error('the server is a standby (in recovery)');
      await client.query(`LISTEN ${this.#channel}`);
    } catch {
      this.#lost(client);
      return;
    }
    if (this.#closed || this.#client !== client) return;
    this.#up = true;
    this.#failures = 0;
    this.stats.connects++;
    // Anything committed while we were not listening: everyone looks once.
    this.#onChange();
    this.#schedule(this.#options.heartbeatMs, () => void this.#check(client));
  }

  async #check(client: Client): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new Error('heartbeat timed out')), this.#options.heartbeatTimeoutMs);
    });
    try {
      await Promise.race([client.query('SELECT 1'), late]);
    } catch {
      this.#lost(client);
      return;
    } finally {
      clearTimeout(timeout);
    }
    if (this.#client === client) this.#schedule(this.#options.heartbeatMs, () => void this.#check(client));
  }

  #lost(client: Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#up = false;
    clearTimeout(this.#timer);
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    // end() on a half-open socket may never finish: destroy the socket under it too.
    void client.end().catch(() => undefined);
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    if (this.#closed) return;
    this.#failures++;
    const delay = Math.min(2_000, 50 * 2 ** Math.min(this.#failures, 6)) * (0.5 + Math.random() / 2);
    this.#schedule(delay, () => this.start());
  }

  #schedule(ms: number, fn: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(fn, ms);
    this.#timer.unref();
  }

  /** The backend serving this listener, for tests that cut it (pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    clearTimeout(this.#timer);
    await this.#starting;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) await client.end().catch(() => undefined);
  }
}
