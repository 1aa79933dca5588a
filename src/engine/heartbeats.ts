// This process's heartbeats for the sessions it registered: every ttlMs / 3
// (at least 50 ms, at most what a timer can count), until the session is ended
// here, a heartbeat is refused (the session ended elsewhere, or the
// coordinator closed), or all stop.
import { MAX_WAIT_MS } from '../limits.ts';

export class Heartbeats {
  #timers = new Map<string, NodeJS.Timeout>();

  /** Starts beating for a session, unless this process already does. */
  start(sessionId: string, ttlMs: number, beat: () => Promise<unknown>): void {
    if (this.#timers.has(sessionId)) return;
    const timer = setInterval(() => {
      beat().catch(() => {
        clearInterval(timer);
        this.#timers.delete(sessionId);
      });
      // A longer interval overflows the timer, which would then fire every millisecond.
    }, Math.min(MAX_WAIT_MS, Math.max(50, Math.floor(ttlMs / 3))));
    timer.unref();
    this.#timers.set(sessionId, timer);
  }

  stop(sessionId: string): void {
    const timer = this.#timers.get(sessionId);
    if (timer !== undefined) clearInterval(timer);
    this.#timers.delete(sessionId);
  }

  stopAll(): void {
    for (const timer of this.#timers.values()) clearInterval(timer);
    this.#timers.clear();
  }
}
