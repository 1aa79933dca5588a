// The JSON record a lock holder leaves on disk, and the rule that decides
// whether its holder is provably gone. See docs/file-locks.md.
import { hostIdentity, isProcessAlive, selfProcess, bootTimeMs, type ProcessRef } from '../process-info.ts';
import { randomPart } from '../unique-name.ts';

export type LockType = 'exclusive' | 'shared';

export interface LockRecord {
  version: 1;
  /** Random id of this acquisition; names the holder's private file `<resource>.lock.<ownerId>`. */
  ownerId: string;
  type: LockType;
  resource: string;
  pid: number;
  ppid: number;
  uid: number;
  hostname: string;
  /** Process start time in clock ticks since boot (Linux), so a reused PID is not taken for the holder. */
  startTime: number | null;
  bootId: string | null;
  pidNamespace: string | null;
  acquiredAt: string;
  /** The holder renews the record's mtime within this many ms; null: no expiry, liveness by PID only. */
  ttlMs: number | null;
  /** Processes that keep the lock alive too (the command `baton run` started). */
  children: ProcessRef[];
}

/**
 * A fresh id per acquisition: a time prefix, so sorting ids sorts contenders
 * by arrival (who is woken next), then randomness, so an id is never reused.
 */
export function newOwnerId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomPart(6, 'base64url');
}

export const OWNER_ID = /^[0-9a-z]{9}[A-Za-z0-9_-]{8}$/;

/** When the acquisition with this id began (ms since the epoch). */
export function ownerIdTime(ownerId: string): number {
  return Number.parseInt(ownerId.slice(0, 9), 36);
}

export function createRecord(resource: string, type: LockType, ttlMs: number | null, ownerId = newOwnerId()): LockRecord {
  const host = hostIdentity();
  const self = selfProcess();
  return {
    version: 1,
    ownerId,
    type,
    resource,
    pid: self.pid,
    ppid: process.ppid,
    uid: host.uid,
    hostname: host.hostname,
    startTime: self.startTime,
    bootId: host.bootId,
    pidNamespace: host.pidNamespace,
    acquiredAt: new Date().toISOString(),
    ttlMs,
    children: [],
  };
}

export function serializeRecord(record: LockRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Parses a record, or returns null when the bytes are not a lock record. */
export function parseRecord(text: string): LockRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Partial<LockRecord>;
  if (r.version !== 1 || typeof r.ownerId !== 'string' || !/^[A-Za-z0-9_-]+$/.test(r.ownerId)) return null;
  if (typeof r.pid !== 'number' || typeof r.hostname !== 'string') return null;
  if (r.type !== 'exclusive' && r.type !== 'shared') return null;
  return {
    ...r,
    children: Array.isArray(r.children) ? r.children : [],
    ttlMs: typeof r.ttlMs === 'number' ? r.ttlMs : null,
  } as LockRecord;
}

export interface Verdict {
  /** True only on proof that the holder is gone or stopped renewing for its TTL. */
  stale: boolean;
  /** Whether the holder's process is alive; null when it cannot be known from here (another host). */
  alive: boolean | null;
  reason: string;
}

/**
 * Judges a record. `mtimeMs` is the record file's mtime: holders with a TTL
 * renew it. Stale only on proof: same host and the holder (and the children
 * it vouches for) are dead or replaced, or the machine rebooted since, or the
 * TTL passed without renewal.
 */
export function judgeRecord(record: LockRecord, mtimeMs: number, now = Date.now()): Verdict {
  const host = hostIdentity();
  const expired = record.ttlMs !== null && now - mtimeMs > record.ttlMs;
  const sameMachine = record.hostname === host.hostname && record.bootId !== null && host.bootId !== null;
  if (sameMachine && record.bootId !== host.bootId) {
    return { stale: true, alive: false, reason: `written before the last reboot (boot ${record.bootId})` };
  }
  if (sameMachine && record.pidNamespace === host.pidNamespace) {
    const holders = [{ pid: record.pid, startTime: record.startTime }, ...record.children];
    const live = holders.filter((p) => isProcessAlive(p));
    if (live.length === 0) {
      return { stale: true, alive: false, reason: `process ${record.pid} on this host is gone or its PID was reused` };
    }
    if (expired) return { stale: true, alive: true, reason: `not renewed within its TTL of ${record.ttlMs} ms` };
    return { stale: false, alive: true, reason: `held by live process ${live.map((p) => p.pid).join(', ')}` };
  }
  if (expired) return { stale: true, alive: null, reason: `holder on ${record.hostname} did not renew within its TTL of ${record.ttlMs} ms` };
  const ttl = record.ttlMs === null ? 'no TTL: it is kept until its holder releases it or it is removed by force' : `TTL ${record.ttlMs} ms`;
  return { stale: false, alive: null, reason: `held by process ${record.pid} on ${record.hostname} (${ttl})` };
}

/** A record too damaged to judge is still provably stale if the file predates the last boot. */
export function corruptRecordIsStale(mtimeMs: number): boolean {
  return mtimeMs < bootTimeMs() - 1000;
}
