// The daemon's access lines: one per request, handed to the logger in small
// batches. A log line written alone costs a write through the thread pool,
// 50-100 µs of CPU on the 2-core machine the benchmarks run on, as much as a
// fifth of a lease request; lines handed over together leave in one write.
// So a line waits at most ACCESS_LOG_FLUSH_MS (or until ACCESS_LOG_BATCH are
// pending); its `at` is when it was written, its `ms` what the request took.
import { ACCESS_LOG_BATCH, ACCESS_LOG_FLUSH_MS } from '../limits.ts';
import type { Logger } from './log.ts';

export class AccessLog {
  readonly #log: Logger;
  #pending: Array<Record<string, unknown>> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  write(fields: Record<string, unknown>): void {
    this.#pending.push(fields);
    if (this.#pending.length >= ACCESS_LOG_BATCH) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), ACCESS_LOG_FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Everything pending, now (and when the daemon stops, before its log closes). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#pending;
    this.#pending = [];
    for (const fields of lines) this.#log.info('request', fields);
  }
}
