// The reservation violations part of `baton status`: the most recent
// `reservation.violated` events among the newest events of the log
// (src/server/violations.ts writes them; docs/violations.md). Only the log's
// tail is read, so a status costs the same however long the log is.
import type { Coordinator } from '../coordinator.ts';
import { STATUS_VIOLATION_SCAN_EVENTS } from '../limits.ts';
import { ago, table } from './output.ts';

/** Violations shown at most; the count covers those in the events scanned. */
const SHOWN = 10;

export interface RecentViolations {
  /** How many the newest `scanned` events hold. */
  total: number;
  /** How many of the newest events were looked through (STATUS_VIOLATION_SCAN_EVENTS). */
  scanned: number;
  /** The newest, newest first. */
  recent: Array<{ at: number; path: string; kind: string; holder: string; lease: string; token: number; worktree: string }>;
}

/**
 * The seq of the newest event (0: none), for a store that does not say it:
 * each probe reads the one event after a seq, galloping past the end of the
 * log, then halving back, so about 2·log2(seq) one-row reads.
 */
export async function newestSeq(coordinator: Coordinator): Promise<number> {
  const after = async (seq: number): Promise<number | undefined> => (await coordinator.events({ after: seq, limit: 1 }))[0]?.seq;
  let lo = await after(0);
  if (lo === undefined) return 0;
  // From here an event lo exists; seqs may have gaps (pruned, or a rolled-back PostgreSQL sequence), so probes land on real ones.
  let step = 1;
  let hi: number;
  for (;;) {
    const next = await after(lo + step);
    if (next === undefined) {
      hi = lo + step;
      break;
    }
    lo = next;
    step *= 2;
  }
  // None after hi.
  while (hi > lo) {
    const mid = Math.floor((lo + hi) / 2);
    const next = await after(mid);
    if (next === undefined) hi = mid;
    else lo = next;
  }
  return lo;
}

/** `lastEventSeq`: the newest seq when known already (the daemon's status says it); else it is probed for. */
export async function recentViolations(coordinator: Coordinator, lastEventSeq?: number): Promise<RecentViolations> {
  const newest = lastEventSeq ?? (await newestSeq(coordinator));
  const events = await coordinator.events({ after: Math.max(0, newest - STATUS_VIOLATION_SCAN_EVENTS), types: ['reservation.violated'], limit: STATUS_VIOLATION_SCAN_EVENTS });
  const recent = events.slice(-SHOWN).reverse().map((e) => {
    const d = e.data;
    return { at: e.at, path: String(d.path), kind: String(d.kind), holder: String(d.holder), lease: String(d.lease), token: Number(d.token), worktree: String(d.worktree) };
  });
  return { total: events.length, scanned: STATUS_VIOLATION_SCAN_EVENTS, recent };
}

export function renderViolations(v: RecentViolations, now: number): string[] {
  const head = `reservation violations (${v.total}${v.total > v.recent.length ? `, newest ${v.recent.length} shown` : ''})`;
  if (v.recent.length === 0) return [head];
  return [head, table(['WHEN', 'PATH', 'KIND', 'HOLDER', 'LEASE', 'TOKEN'], v.recent.map((x) => [ago(x.at, now), x.path, x.kind, x.holder, x.lease, x.token])).trimEnd()];
}
