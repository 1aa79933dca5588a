// Leader election over leases and shared state, the same for every
// Coordinator (the engine, the daemon's client), as etcd's concurrency
// package offers it. The leader is the holder of the exclusive lease
// `election:<name>`; its fencing token is the term, so terms strictly
// increase. Its value lives in the shared-state key `election:<name>`, bound
// to that lease: it goes when the leadership does (docs/election.md).
import type { Coordinator, Lease, Subscription } from './coordinator.ts';
import { BatonError, isBatonError } from './errors.ts';
import { holderDeadline, releaseUnlessGone } from './lease-scope.ts';
import { ELECTION_PREFIX, MAX_KEY_LENGTH, MAX_WAIT_MS } from './limits.ts';

export interface CampaignOptions {
  /** Who campaigns: the lease's owner, what observers see. */
  owner: string;
  /** What the leader tells everyone (any JSON value; default null), until it proclaims another. */
  value?: unknown;
  /** The lease's TTL: a leader that dies is replaced within it (plus a sweep). Renewed about three times within it while leading. 0: bound to sessionId only. */
  ttlMs: number;
  /**
   * Bind the leadership to a session: it also ends with the session. The
   * daemon ends a session when its attach stream drops, which a live process
   * sees only later: leave it out when two leaders must never overlap
   * (docs/election.md).
   */
  sessionId?: string;
  /**
   * How long the leader needs to stop its work: `signal` aborts this long
   * before the holder's deadline, so work stopped within graceMs of the abort
   * is over before the lease could lapse. At most ttlMs / 3. Default 0.
   */
  graceMs?: number;
  /** Gives up the campaign (ABORTED) while waiting; once leading, resigns. */
  signal?: AbortSignal;
  /** Stop waiting in line after this long (LOCK_TIMEOUT). Default: wait until elected or aborted. */
  timeoutMs?: number;
}

/** Who leads an election now. */
export interface Leader {
  name: string;
  owner: string;
  /** The term: the lease's fencing token. */
  token: number;
  /** The value the leader proclaimed; undefined in the moment between its election and its first put. */
  value: unknown;
  acquiredAt: number;
  expiresAt: number | null;
  sessionId: string | null;
}

/** This process's leadership, from campaign(). */
export interface Leadership {
  readonly name: string;
  /** The term (the lease's fencing token): present it (with `lease.key`) to anything the leader writes, so a deposed leader's late write is refused. */
  readonly token: number;
  readonly value: unknown;
  readonly lease: Lease;
  /** Aborts when the leadership is lost: its lease released, expired or force-released (seen in the event stream, or a renewal refused), no renewal got through by the holder's deadline (less graceMs), or resign(). */
  readonly signal: AbortSignal;
  /** Gives up the leadership (the value goes with it); the next in line is elected. */
  resign(): Promise<void>;
  /** Tells everyone a new value; refused (STALE_TOKEN, LEASE_EXPIRED) once the leadership is lost. */
  proclaim(value: unknown): Promise<void>;
}

/** The lease key and shared-state key of an election. */
export function electionKey(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || ELECTION_PREFIX.length + name.length > MAX_KEY_LENGTH) {
    throw new BatonError('INVALID_ARGUMENT', `an election's name must be 1 to ${MAX_KEY_LENGTH - ELECTION_PREFIX.length} characters, got ${JSON.stringify(name)}`);
  }
  return ELECTION_PREFIX + name;
}

/** Waits in line for the exclusive lease, until elected (or timeoutMs, or the signal). */
async function waitInLine(coordinator: Coordinator, key: string, options: CampaignOptions): Promise<Lease> {
  const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
  for (;;) {
    const timeoutMs = Math.max(0, Math.min(MAX_WAIT_MS, deadline - performance.now()));
    try {
      return await coordinator.acquire(key, {
        owner: options.owner,
        mode: 'exclusive',
        ttlMs: options.ttlMs,
        timeoutMs: Number.isFinite(timeoutMs) ? Math.floor(timeoutMs) : MAX_WAIT_MS,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      // A wait of 24 days ran out: stand in line again, unless the caller's own bound ran out.
      if (!isBatonError(error, 'LOCK_TIMEOUT') || performance.now() >= deadline) throw error;
    }
  }
}

/**
 * Campaigns for leadership of `name`: waits in line for the lease, then
 * proclaims `value`. While leading, the lease is renewed about three times
 * within its TTL; `signal` aborts at the holder's own deadline (its monotonic
 * clock, less a margin and graceMs) if no renewal got through, as soon as the
 * event stream says the lease ended, or when a renewal is refused.
 */
export async function campaign(coordinator: Coordinator, name: string, options: CampaignOptions): Promise<Leadership> {
  const key = electionKey(name);
  const graceMs = options.graceMs ?? 0;
  if (!Number.isInteger(graceMs) || graceMs < 0 || (graceMs > 0 && graceMs > options.ttlMs / 3)) {
    throw new BatonError('INVALID_ARGUMENT', `graceMs must be a whole number of ms from 0 to a third of ttlMs (${Math.floor(options.ttlMs / 3)}), got ${JSON.stringify(options.graceMs)}`);
  }
  const lost = new AbortController();
  const elected = await waitInLine(coordinator, key, options);
  const ref = { key: elected.key, token: elected.token };
  // The lease ending in the store (a release, an expiry, a force-release, its session's end) ends the leadership at once,
  // not at the next renewal. Refused renewals and the holder's deadline still stand behind it: a stream can drop.
  let ended: string | undefined;
  let onEnded = (reason: string): void => void (ended = reason);
  const following = coordinator.subscribe((event) => {
    if (event.key !== key || event.data.token !== ref.token) return;
    if (event.type === 'lease.expired') onEnded('its lease expired in the store');
    else if (event.type === 'lease.released') onEnded(event.data.forced === true ? 'its lease was force-released' : typeof event.data.sessionId === 'string' ? 'its session ended' : 'its lease was released');
  }, { types: ['lease.released', 'lease.expired'] });
  // The wait in line may have been long: the holder's clock starts at a renewal asked for now, not at the campaign's start.
  let askedAt = performance.now();
  let lease: Lease;
  try {
    lease = options.ttlMs > 0 ? await coordinator.renew(ref, { ttlMs: options.ttlMs }) : elected;
  } catch (error) {
    following.close();
    await releaseUnlessGone(coordinator, ref).catch(() => undefined);
    throw error;
  }
  let value: unknown = options.value ?? null;
  let renewer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  const end = (reason: string): void => {
    following.close();
    clearInterval(renewer);
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!lost.signal.aborted) lost.abort(new BatonError('LEASE_EXPIRED', `leadership of ${JSON.stringify(name)} (term ${lease.token}) ended: ${reason}`));
  };
  /** Until when, by this process's clock, the leadership can be trusted: from the last renewal that got through. */
  const armDeadline = (): void => {
    clearTimeout(deadlineTimer);
    const at = holderDeadline(askedAt, options.ttlMs) - graceMs;
    if (!Number.isFinite(at)) return;
    deadlineTimer = setTimeout(() => end(`no renewal got through within its TTL${graceMs > 0 ? ` (less ${graceMs} ms to stop)` : ''}`), Math.max(0, at - performance.now()));
    deadlineTimer.unref();
  };
  const resign = async (): Promise<void> => {
    end('resigned');
    await releaseUnlessGone(coordinator, ref);
  };
  const onAbort = (): void => void resign().catch(() => undefined);
  armDeadline();
  if (options.ttlMs > 0) {
    // About three tries within the time the leadership can be trusted, so one lost renewal is survived.
    renewer = setInterval(() => {
      const at = performance.now();
      coordinator.renew(ref, { ttlMs: options.ttlMs }).then(
        () => {
          askedAt = at;
          if (!lost.signal.aborted) armDeadline();
        },
        (error: unknown) => {
          // Refused: someone else leads now. Anything else (a daemon restarting) is tried again at the next tick.
          if (isBatonError(error, 'STALE_TOKEN') || isBatonError(error, 'LEASE_EXPIRED')) end('the lease was lost');
        },
      );
    }, Math.max(50, Math.floor((holderDeadline(0, options.ttlMs) - graceMs) / 3)));
    renewer.unref();
  }
  // An end the stream reported before the leadership was set up.
  onEnded = end;
  if (ended !== undefined) end(ended);
  try {
    await coordinator.kvPut(key, value, { lease: ref });
  } catch (error) {
    await resign().catch(() => undefined);
    throw error;
  }
  if (options.signal?.aborted === true) await resign();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    name,
    token: lease.token,
    lease,
    signal: lost.signal,
    get value() {
      return value;
    },
    resign,
    async proclaim(next: unknown) {
      await coordinator.kvPut(key, next ?? null, { lease: ref });
      value = next ?? null;
    },
  };
}

/** The current leader of `name`, or null when no one leads. */
export async function leader(coordinator: Coordinator, name: string): Promise<Leader | null> {
  const key = electionKey(name);
  const [info, entry] = await Promise.all([coordinator.getLease(key), coordinator.kvGet(key)]);
  const holder = info.holders.find((h) => h.mode === 'exclusive');
  if (holder === undefined) return null;
  const value = entry !== null && entry.lease?.token === holder.token ? entry.value : undefined;
  return { name, owner: holder.owner, token: holder.token, value, acquiredAt: holder.acquiredAt, expiresAt: holder.expiresAt, sessionId: holder.sessionId };
}

/**
 * Pushes the current leader of `name` (null: none), then each change: a new
 * term, a new value, or no leader. Read again on every lease or shared-state
 * event of the election's key, so no change is missed; an unchanged leader
 * is not pushed twice.
 */
export function observe(coordinator: Coordinator, name: string, handler: (leader: Leader | null) => void, options: { onError?: (error: unknown) => void } = {}): Subscription {
  const key = electionKey(name);
  let closed = false;
  let last: string | undefined;
  let reading: Promise<void> = Promise.resolve();
  const look = (): void => {
    reading = reading.then(async () => {
      if (closed) return;
      try {
        const now = await leader(coordinator, name);
        const seen = now === null ? 'none' : JSON.stringify([now.token, now.owner, now.value === undefined ? '\0' : now.value]);
        if (closed || seen === last) return;
        last = seen;
        handler(now);
      } catch (error) {
        options.onError?.(error);
      }
    });
  };
  const subscription = coordinator.subscribe((event) => {
    if (event.key === key || event.data.key === key) look();
  }, { types: ['lease.', 'kv.'] });
  look();
  return {
    close() {
      closed = true;
      subscription.close();
    },
  };
}
