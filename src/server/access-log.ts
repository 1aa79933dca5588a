// The daemon's access lines: one per request. A log line written alone costs a
// write through the thread pool, 50-100 µs of CPU on the 2-core machine the
// benchmarks run on, as much as a fifth of a lease request. So each line is
// made (redacted, stamped) when its request ends, an even few µs a request,
// and the lines leave together in one write at most ACCESS_LOG_FLUSH_MS later
// (or once ACCESS_LOG_BATCH are pending). Formatting them all at the flush
// instead stalled the event loop for a millisecond every 50 ms, which showed
// in the 1-client p99.
import { ACCESS_LOG_BATCH, ACCESS_LOG_FLUSH_MS } from '../limits.ts';
import type { Logger } from './log.ts';

export class AccessLog {
  readonly #log: Logger;
  #pending = '';
  #count = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  write(fields: Record<string, unknown>): void {
    this.#pending += this.#log.format('request', fields);
    this.#count += 1;
    if (this.#count >= ACCESS_LOG_BATCH) this.flush();
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
    this.#pending = '';
    this.#count = 0;
    this.#log.append(lines);
  }
}
