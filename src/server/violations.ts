// Reservation violations: a change the daemon's watcher saw (so not made
// through baton: baton's own writes are echoes the watcher drops) to a path an
// exclusive `path:` lease covers. Each (lease token, path) is reported once:
// a `reservation.violated` event, and a message to the holder's inbox.
//
// Judged against the leases held when the change is reported (about 50 ms
// after the write settles). The list of path leases is kept, and read again
// only when a `lease.` event arrived since (the check first waits until the
// events up to its own fs.changed were handed over, so a lease taken before
// the write is never missed) or after a second; a burst of changes with no
// path lease held costs no read per change. docs/violations.md says what can
// and cannot be attributed.
import type { BatonEvent, Coordinator, Lease, Subscription } from '../coordinator.ts';
import { isBatonError } from '../errors.ts';
import { holderNameOf } from '../engine/holder-name.ts';
import { pathCovers } from '../engine/paths.ts';
import { BATON_SENDER, MAX_NAME_LENGTH, MAX_VIOLATION_EVENTS_PER_LEASE, MAX_VIOLATION_MESSAGES_PER_LEASE, PATH_PREFIX } from '../limits.ts';
import type { Logger } from './log.ts';
import type { WatcherChange } from './watcher-events.ts';

/** Read the leases again at least this often, whatever the events say (an expiry is an event only once swept). */
const LEASES_STALE_MS = 1000;
/** How long a check waits for the lease events before its change to arrive; then it reads the leases itself. */
const CATCH_UP_MS = 250;

export interface Violation {
  path: string;
  kind: WatcherChange['kind'];
  holder: string;
  lease: string;
  token: number;
  worktree: string;
}

export class ViolationCheck {
  readonly #coordinator: Coordinator;
  readonly #log: Logger | undefined;
  readonly #subscription: Subscription;
  /** Exclusive path leases as last read; undefined: read them again. */
  #leases: Lease[] | undefined;
  #readAt = 0;
  #reading: Promise<Lease[]> | undefined;
  /** The last event seq the subscription handed over: lease events up to it are reflected in #leases. */
  #seen = -1;
  /** Lease events seen so far: a read that a lease event overtook is not kept. */
  #generation = 0;
  readonly #waiters = new Set<{ seq: number; wake(): void }>();
  /** `${key}\0${token}` -> the paths reported for that hold. Pruned when the hold is gone. */
  readonly #reported = new Map<string, Set<string>>();

  constructor(coordinator: Coordinator, options: { log?: Logger } = {}) {
    this.#coordinator = coordinator;
    this.#log = options.log;
    this.#subscription = coordinator.subscribe((event) => this.#saw(event));
  }

  close(): void {
    this.#subscription.close();
    for (const w of this.#waiters) w.wake();
    this.#waiters.clear();
  }

  /** Reports `change` (published as event `seq`) if it broke a reservation. Never throws: a failure is logged. */
  async check(change: WatcherChange, seq: number): Promise<Violation[]> {
    try {
      const leases = await this.#pathLeases(seq);
      if (leases.length === 0) return [];
      const found: Violation[] = [];
      for (const lease of leases) {
        if (!pathCovers(lease.key.slice(PATH_PREFIX.length), change.path)) continue;
        const hold = `${lease.key}\0${lease.token}`;
        const paths = this.#reported.get(hold) ?? new Set<string>();
        const id = `${change.worktree}\0${change.path}`;
        if (paths.has(id) || paths.size >= MAX_VIOLATION_EVENTS_PER_LEASE) continue;
        // Claimed before any await: the watcher's lane checks up to 16 changes at once, and two of one path must report once.
        paths.add(id);
        this.#reported.set(hold, paths);
        const count = paths.size;
        let holder: string;
        try {
          // Held now, not only when last read: a release a moment ago is no violation of it.
          if (!(await this.#stillHeld(lease))) {
            paths.delete(id);
            continue;
          }
          holder = await holderNameOf(this.#coordinator, lease);
        } catch (error) {
          paths.delete(id);
          throw error;
        }
        const violation: Violation = { path: change.path, kind: change.kind, holder, lease: lease.key, token: lease.token, worktree: change.worktree };
        await this.#report(violation, count, lease.sessionId);
        found.push(violation);
      }
      return found;
    } catch (error) {
      this.#log?.warn('reservation violation check', { path: change.path, error: error instanceof Error ? error.message : String(error) });
      return [];
    }
  }

  #saw(event: BatonEvent): void {
    this.#seen = Math.max(this.#seen, event.seq);
    if (event.type.startsWith('lease.')) {
      this.#leases = undefined;
      this.#generation++;
    }
    for (const w of [...this.#waiters]) {
      if (this.#seen >= w.seq) {
        this.#waiters.delete(w);
        w.wake();
      }
    }
  }

  /** Resolves once the subscription has handed over event `seq` (so every lease event before it), or after CATCH_UP_MS. */
  #caughtUp(seq: number): Promise<void> {
    if (this.#seen >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { seq, wake: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => (this.#waiters.delete(waiter), resolve()), CATCH_UP_MS);
      this.#waiters.add(waiter);
    });
  }

  async #pathLeases(seq: number): Promise<Lease[]> {
    await this.#caughtUp(seq);
    const fresh = this.#leases !== undefined && this.#seen >= seq && Date.now() - this.#readAt < LEASES_STALE_MS;
    if (fresh) return this.#leases!;
    // Concurrent checks share one read.
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<Lease[]> {
    const readAt = Date.now();
    const generation = this.#generation;
    const all = await this.#coordinator.listLeases({ prefix: PATH_PREFIX });
    const leases = all.filter((l) => l.mode === 'exclusive' && l.key.startsWith(PATH_PREFIX));
    const live = new Set(leases.map((l) => `${l.key}\0${l.token}`));
    for (const hold of this.#reported.keys()) if (!live.has(hold)) this.#reported.delete(hold);
    // A lease event that arrived during the read leaves the list to be read again.
    if (this.#generation === generation) {
      this.#leases = leases;
      this.#readAt = readAt;
    }
    return leases;
  }

  async #stillHeld(lease: Lease): Promise<boolean> {
    try {
      await this.#coordinator.checkLease({ key: lease.key, token: lease.token });
      return true;
    } catch (error) {
      if (isBatonError(error, 'STALE_TOKEN') || isBatonError(error, 'LEASE_EXPIRED')) return false;
      throw error;
    }
  }

  async #report(v: Violation, count: number, sessionId: string | null): Promise<void> {
    await this.#coordinator.publish({ type: 'reservation.violated', key: v.lease, actor: null, data: { ...v } });
    this.#log?.warn('reservation violated', { ...v });
    if (count > MAX_VIOLATION_MESSAGES_PER_LEASE) return;
    const more = count === MAX_VIOLATION_MESSAGES_PER_LEASE ? `\nFurther changes under this reservation (token ${v.token}) are recorded as reservation.violated events only, not messaged.` : '';
    // One thread per hold, so an inbox groups the reports of one reservation.
    const thread = `reservation ${v.lease} token ${v.token}`;
    try {
      await this.#coordinator.sendMessage({
        from: BATON_SENDER,
        to: { agent: v.holder },
        ...(thread.length <= MAX_NAME_LENGTH ? { thread } : {}),
        subject: `reservation violated: ${v.path} was ${v.kind} outside baton`,
        body:
          `${v.path} (in ${v.worktree}) was ${v.kind} by a write that did not go through baton, while you hold ${v.lease} (token ${v.token}${sessionId === null ? '' : `, session ${sessionId}`}). ` +
          'The watcher cannot tell which process wrote it: it may have been another agent, an editor, a build, or you writing to disk directly. ' +
          `Check the file before you write it again.${more}`,
        importance: 'high',
      });
    } catch (error) {
      // The event is the record; a holder with no inbox (an unknown name) still has it.
      this.#log?.warn('reservation violation message not sent', { holder: v.holder, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
