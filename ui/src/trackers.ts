// What the events tell that the lists do not keep: tasks completed and failed
// per second (the throughput chart), each claim's token and start (a Task row
// carries neither, but releaseClaim and fail present the token), and callers
// being rate limited. Fed by every event once (by seq), kept for a few minutes.
import { useEffect } from 'react';
import { useProtocol, useProtocolEvent } from '../../src/react/index.ts';
import type { BatonEvent } from './types.ts';

const KEEP_SECONDS = 600;
const KEEP_CLAIMS = 50_000;
const KEEP_THROTTLES = 2000;

export interface Bucket {
  completed: number;
  failed: number;
}
export interface ClaimSeen {
  token: number;
  at: number;
  seq: number;
}
export interface Throttle {
  at: number;
  key: string;
  actor: string | null;
  kind: 'throttled' | 'queued';
  waitMs: number;
}

/** Seconds since the epoch (store clock) → tasks completed and failed in that second. */
export const buckets = new Map<number, Bucket>();
/** Task id → its latest claim seen. */
export const claims = new Map<number, ClaimSeen>();
export const throttles: Throttle[] = [];
/** The seqs fed so far span low..high: live events come above, history read back comes below. */
let low = Infinity;
let high = 0;

function bucket(at: number): Bucket {
  const second = Math.floor(at / 1000);
  let b = buckets.get(second);
  if (b === undefined) {
    b = { completed: 0, failed: 0 };
    buckets.set(second, b);
    for (const old of buckets.keys()) if (old < second - KEEP_SECONDS) buckets.delete(old);
  }
  return b;
}

/** A new event from the stream (or the newest of a snapshot): counted once, by seq. */
function live(e: BatonEvent): void {
  if (e.seq <= high) return;
  if (low === Infinity) low = e.seq;
  high = e.seq;
  take(e);
}

function take(e: BatonEvent): void {
  switch (e.type) {
    case 'task.completed':
      bucket(e.at).completed++;
      break;
    case 'task.failed':
      bucket(e.at).failed++;
      break;
    case 'task.claimed': {
      const token = e.data['token'];
      const id = Number(e.key);
      if (typeof token === 'number' && e.key !== null && (claims.get(id)?.seq ?? 0) < e.seq) {
        claims.delete(id); // re-inserted at the end: the Map stays oldest-first
        claims.set(id, { token, at: e.at, seq: e.seq });
        if (claims.size > KEEP_CLAIMS) claims.delete(claims.keys().next().value!);
      }
      break;
    }
    case 'ratelimit.throttled':
    case 'ratelimit.queued': {
      const wait = e.data[e.type === 'ratelimit.queued' ? 'waitMs' : 'retryAfterMs'];
      // Kept in time order (history read back arrives after newer events): recentThrottles stops at the first too old.
      let at = throttles.length;
      while (at > 0 && throttles[at - 1]!.at > e.at) at--;
      throttles.splice(at, 0, { at: e.at, key: e.key ?? '', actor: e.actor, kind: e.type === 'ratelimit.queued' ? 'queued' : 'throttled', waitMs: typeof wait === 'number' ? wait : 0 });
      if (throttles.length > KEEP_THROTTLES) throttles.splice(0, throttles.length - KEEP_THROTTLES);
      break;
    }
  }
}

/**
 * Mounted once. Every event as it arrives (even while the page is paused, and
 * under a flood larger than the events kept), plus the history the hooks read
 * back on start, which comes before them and reaches no event handler.
 */
export function Trackers(): null {
  const events = useProtocol((s) => s.events);
  useEffect(() => {
    // Older than anything counted (the history read back): ascending, up to what was counted.
    const below = low;
    let i = 0;
    for (; i < events.length && events[i]!.seq < below; i++) take(events[i]!);
    if (i > 0) {
      low = events[0]!.seq;
      high = Math.max(high, events[i - 1]!.seq);
    }
    // Newer than anything counted (missed by the handler only if it was not yet subscribed).
    let j = events.length;
    while (j > i && events[j - 1]!.seq > high) j--;
    for (; j < events.length; j++) live(events[j]!);
  }, [events]);
  useProtocolEvent('*', live);
  return null;
}

/** Throttled or queued callers seen since `since`, grouped by key and caller. */
export function recentThrottles(since: number): Array<{ key: string; actor: string | null; count: number; last: number; kind: Throttle['kind'] }> {
  const groups = new Map<string, { key: string; actor: string | null; count: number; last: number; kind: Throttle['kind'] }>();
  for (let i = throttles.length - 1; i >= 0; i--) {
    const t = throttles[i]!;
    if (t.at < since) break;
    const id = `${t.key}\n${t.actor ?? ''}`;
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { key: t.key, actor: t.actor, count: 1, last: t.at, kind: t.kind });
    else g.count++;
  }
  return [...groups.values()];
}

type Call = <R = unknown>(operation: string, body: object) => Promise<R>;
const WINDOW = 20_000;
const WINDOWS = 10;

/**
 * The token of a task's current claim: from the claims seen on the stream, else
 * found in the event log (the latest task.claimed for it, read backwards in
 * windows of seq). A stale one is harmless: the daemon refuses it (STALE_TOKEN).
 */
export async function claimToken(call: Call, taskId: number, seq: number): Promise<number> {
  const seen = claims.get(taskId);
  if (seen !== undefined) return seen.token;
  for (let top = seq, n = 0; top > 0 && n < WINDOWS; top -= WINDOW, n++) {
    const found = await call<BatonEvent[]>('events', { after: Math.max(0, top - WINDOW), limit: WINDOW, types: ['task.claimed'] });
    const mine = found.filter((e) => e.key === String(taskId) && e.seq <= top).at(-1);
    const token = mine?.data['token'];
    if (typeof token === 'number') return token;
  }
  throw new Error(`the token of task ${taskId}'s claim is not in the event log (pruned?); the claim can still end by its deadline or its session`);
}
