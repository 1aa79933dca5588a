// The writer-turn ("raised hand") fairness protocol between the processes
// that write one SQLite file (docs/engine.md, the SQLite store).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';

/**
 * A writer kept out this long raises its hand (see WriterTurn); a raised hand
 * is honoured this long, so one whose writer died holds nobody up for more.
 */
const RAISE_HAND_MS = 30;
const HAND_MAX_AGE_MS = 100;
/**
 * After finding no hand, a writer looks again only this much later: a stat
 * costs about 30 µs here, a sixth of a daemon's whole lease request, and a
 * hand that has waited RAISE_HAND_MS can wait this much more.
 */
const HAND_LOOK_MS = 5;

/**
 * Backoff alone is not fair under synchronous=FULL: a commit holds the lock
 * through its fsync and the writer that made it begins its next at once, so a
 * writer whose retries keep missing the gap can go 50 ms between commits on a
 * loaded machine (the test of 4 writers once saw one make 4% of the mean). So a
 * writer kept out for RAISE_HAND_MS creates `<db>-turn`; the others, which
 * look for it before each write, step aside until it has begun its
 * transaction or the file is HAND_MAX_AGE_MS old. Only fairness rests on it,
 * never correctness: SQLite's lock still decides who writes, so a lost race
 * around the file (two hands, a hand removed by the wrong writer) costs a
 * turn, nothing more.
 */
export class WriterTurn {
  readonly #path: string;
  readonly #id = randomBytes(8).toString('hex');
  #noHandUntil = 0;
  #raised = false;

  constructor(dbPath: string) {
    this.#path = `${dbPath}-turn`;
  }

  /** Whether this writer's hand is up: it retries at once rather than backing off. */
  get raised(): boolean {
    return this.#raised;
  }

  /** Whether another writer's fresh hand is up (at most one stat per HAND_LOOK_MS while there is none). */
  othersWaiting(): boolean {
    if (this.#raised) return false;
    const now = performance.now();
    if (now < this.#noHandUntil) return false;
    if (this.#freshHandUp()) return true;
    this.#noHandUntil = now + HAND_LOOK_MS;
    return false;
  }

  /** Raises the hand of a writer kept out (busy) for `keptOutMs`, once that reaches RAISE_HAND_MS. */
  keptOut(keptOutMs: number): void {
    if (!this.#raised && keptOutMs >= RAISE_HAND_MS) this.#raise();
  }

  /**
   * A hand from the future is stale too: after the wall clock steps back, a
   * hand left by a dead writer would otherwise hold everyone up for that step.
   */
  #freshHandUp(): boolean {
    const stat = statSync(this.#path, { throwIfNoEntry: false });
    if (stat === undefined) return false;
    const age = Date.now() - stat.mtimeMs;
    return age >= 0 && age < HAND_MAX_AGE_MS;
  }

  #raise(): void {
    for (let tries = 0; tries < 2 && !this.#raised; tries++) {
      try {
        const fd = openSync(this.#path, 'wx', 0o600);
        try {
          writeSync(fd, this.#id);
        } finally {
          closeSync(fd);
        }
        this.#raised = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return;
        // Another's hand: wait for it, unless its writer left it behind.
        if (this.#freshHandUp()) return;
        this.#unlink();
      }
    }
  }

  /** Takes this writer's hand down (it has begun its transaction, or stopped trying), unless another's replaced it. */
  lower(): void {
    if (!this.#raised) return;
    this.#raised = false;
    try {
      if (readFileSync(this.#path, 'utf8') === this.#id) this.#unlink();
    } catch {
      // gone already: taken down as stale by another writer
    }
  }

  #unlink(): void {
    try {
      unlinkSync(this.#path);
    } catch {
      // removed by another writer first
    }
  }
}
