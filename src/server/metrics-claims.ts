// When each claim this daemon handed out was made, so a completion through
// the same daemon can say how long the task was held: no store query, and a
// bounded memory (the oldest claims are forgotten first). A claim completed
// through another daemon, or after the daemon restarted, is not measured.
import { MAX_TRACKED_CLAIMS } from '../limits.ts';

export interface ClaimRefLike {
  taskId: number;
  token: number;
}

export class ClaimClock {
  readonly #claimedAt = new Map<string, number>();
  readonly #max: number;

  constructor(max = MAX_TRACKED_CLAIMS) {
    this.#max = max;
  }

  get size(): number {
    return this.#claimedAt.size;
  }

  claimed(claim: ClaimRefLike, at = performance.now()): void {
    this.#claimedAt.set(`${claim.taskId}:${claim.token}`, at);
    // A Map iterates in insertion order: the first key is the oldest claim.
    if (this.#claimedAt.size > this.#max) this.#claimedAt.delete(this.#claimedAt.keys().next().value!);
  }

  /** Seconds since the claim was made, if this daemon made it; it is forgotten either way. */
  finished(claim: ClaimRefLike, at = performance.now()): number | undefined {
    const id = `${claim.taskId}:${claim.token}`;
    const since = this.#claimedAt.get(id);
    if (since === undefined) return undefined;
    this.#claimedAt.delete(id);
    return (at - since) / 1000;
  }
}
