// Leases on named keys, with fencing tokens. Each step runs inside one store
// transaction; the waiting loop around it lives in lease-wait.ts.
//
// Fairness: a request may be granted only when no live holder conflicts AND
// no earlier waiter that conflicts with it is still waiting. A request that
// has not queued yet counts as the last in line, so it cannot jump the queue.
//
// Handoff: the transaction that ends a hold also grants the lease to the
// first waiters in line (handOff), so the next holder needs no transaction of
// its own: it finds the lease made out to its waiter id (grantedTo).
//
// Across processes on PostgreSQL (READ COMMITTED) every step that reads a
// key's holders and waiters and then writes takes lockLease first: a path key
// also takes the one lock of all path keys (any two may overlap), always
// before its own, so two steps never wait for each other in a circle.
import type { AcquireOptions, Lease, LeaseInfo, LeaseMode, LeaseRef, LeaseWaiter } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { hostIdentity, isProcessAlive } from '../files/process-info.ts';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_LEASE_TTL_MS, LEASE_MODES, MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_TTL_MS, PATH_PREFIX } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { rememberHashed } from './idempotency.ts';
import { normalizePathPattern, pathsOverlap } from './paths.ts';
import { leaseQuota } from './quotas.ts';
import { invalid, optionalInt, optionalReason, requireInt, requireOneOf, requireSessionId, requireString, requireTimeout } from './validate.ts';

export interface LeaseRow {
  [column: string]: unknown;
  key: string;
  token: number;
  owner: string;
  mode: LeaseMode;
  is_path: number;
  session_id: string | null;
  acquired_at: number;
  expires_at: number | null;
}

interface WaiterRow {
  [column: string]: unknown;
  id: number;
  key: string;
  owner: string;
  mode: LeaseMode;
  is_path: number;
  since: number;
  seen_at: number;
  host: string | null;
  pid: number | null;
  pid_start: number | null;
  /** The request, kept so that a release can hand the lease over (null: an older baton's waiter, which looks for itself). */
  ttl_ms: number | null;
  session_id: string | null;
  idem_key: string | null;
  idem_hash: string | null;
}

export interface LeaseRequest {
  key: string;
  owner: string;
  mode: LeaseMode;
  ttlMs: number;
  sessionId: string | null;
}

/** A waiter that has not shown itself for this long is gone. */
export const WAITER_STALE_MS = 5_000;

/** The lock every path key takes before its own: path keys conflict across names. */
const PATHS_LOCK = 'lease-paths';

/** Serialises this write with every other on `key` (and on any path key, for a path key): see the top of this file. */
export async function lockLease(tx: StoreTx, key: string): Promise<void> {
  if (isPathKey(key)) await tx.lock(PATHS_LOCK);
  await tx.lock(`lease:${key}`);
}

/** Locks several keys in one order (path keys' common lock first, then by key): two such steps cannot deadlock. */
export async function lockLeases(tx: StoreTx, keys: Iterable<string>): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.some(isPathKey)) await tx.lock(PATHS_LOCK);
  for (const key of sorted) await tx.lock(`lease:${key}`);
}

/** Waiters refresh their entry this often. */
export const WAITER_TOUCH_MS = 1_000;

// --- argument checks, made before the transaction -----------------------

/** Validates a key; `path:` keys are normalized so equal path sets have equal keys. */
export function normalizeKey(key: unknown): string {
  const text = requireString('key', key, { max: MAX_KEY_LENGTH });
  return text.startsWith(PATH_PREFIX) ? PATH_PREFIX + normalizePathPattern(text.slice(PATH_PREFIX.length)) : text;
}

export function checkAcquire(key: unknown, options: AcquireOptions): LeaseRequest {
  if (typeof options !== 'object' || options === null) throw invalid('acquire needs options { owner, ... }');
  const request: LeaseRequest = {
    key: normalizeKey(key),
    owner: requireString('owner', options.owner, { max: MAX_NAME_LENGTH }),
    mode: requireOneOf('mode', options.mode, LEASE_MODES, 'exclusive'),
    ttlMs: optionalInt('ttlMs', options.ttlMs, DEFAULT_LEASE_TTL_MS, { max: MAX_TTL_MS }),
    sessionId: options.sessionId === undefined ? null : requireSessionId(options.sessionId),
  };
  if (request.ttlMs === 0 && request.sessionId === null) throw invalid('ttlMs 0 (no expiry) needs a sessionId: a lease must end somehow');
  return request;
}

/** How long an acquire waits in line (checked after checkAcquire). */
export function checkAcquireTimeout(options: AcquireOptions): number {
  return requireTimeout('timeoutMs', options.timeoutMs, DEFAULT_ACQUIRE_TIMEOUT_MS);
}

export function checkRef(ref: unknown): LeaseRef {
  if (typeof ref !== 'object' || ref === null) throw invalid('a lease reference { key, token } is required');
  const { key, token } = ref as { key?: unknown; token?: unknown };
  return { key: normalizeKey(key), token: requireInt('token', token, { min: 1 }) };
}

export function checkRenew(lease: unknown, options: { ttlMs?: number }): { ref: LeaseRef; ttlMs: number } {
  const ref = checkRef(lease);
  return { ref, ttlMs: optionalInt('ttlMs', options.ttlMs, DEFAULT_LEASE_TTL_MS, { max: MAX_TTL_MS }) };
}

/** `k`: the key (the name is part of the idempotency request's hash). */
export function checkForceRelease(key: unknown, options: { token?: number; reason?: string }): { k: string; token: number | undefined; reason: string } {
  const k = normalizeKey(key);
  const token = options.token === undefined ? undefined : requireInt('token', options.token, { min: 1 });
  return { k, token, reason: optionalReason(options.reason, 'forced') };
}

/** listLeases' key prefix ('' for all). */
export function checkPrefix(options: { prefix?: string }): string {
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw invalid('prefix must be a string');
  if (prefix.length > MAX_KEY_LENGTH) throw invalid(`prefix must be at most ${MAX_KEY_LENGTH} characters, not ${prefix.length}`);
  return prefix;
}

// --- the rules, inside one transaction ------------------------------------

export function isPathKey(key: string): boolean {
  return key.startsWith(PATH_PREFIX);
}

interface Claimant {
  key: string;
  mode: LeaseMode;
}

export function conflicts(a: Claimant, b: Claimant): boolean {
  if (a.mode === 'shared' && b.mode === 'shared') return false;
  if (a.key === b.key) return true;
  return isPathKey(a.key) && isPathKey(b.key) && pathsOverlap(a.key.slice(PATH_PREFIX.length), b.key.slice(PATH_PREFIX.length));
}

export function leaseFromRow(row: LeaseRow): Lease {
  return {
    key: row.key,
    owner: row.owner,
    mode: row.mode,
    token: row.token,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
    sessionId: row.session_id,
  };
}

function expired(row: LeaseRow, now: number): boolean {
  return row.expires_at !== null && row.expires_at <= now;
}

/** Holders and waiters are whole rows: their key is always there (a NOT NULL column). */
function describe(row: { key: string; owner: string; mode: LeaseMode }, what: string): string {
  return `${what} ${JSON.stringify(row.owner)} (${row.mode} on ${row.key})`;
}

export type Attempt = { granted: true; lease: Lease } | { granted: false; blockedBy: string };

function waiterGone(w: WaiterRow, now: number): boolean {
  if (w.seen_at < now - WAITER_STALE_MS) return true;
  const me = hostIdentity();
  if (w.host !== me.hostname || w.pid === null) return false;
  return !isProcessAlive({ pid: w.pid, startTime: w.pid_start });
}

/**
 * What stands in the way of a request: the first live holder that conflicts,
 * else the first earlier waiter that does (a request not queued counts as the
 * last), or null. Expired holders and gone waiters are out of the way; with
 * `clear` those passed on the way are expired and dropped, else only read.
 */
async function obstacle(tx: StoreTx, request: LeaseRequest, isPath: number, waiterId: number | null, clear: boolean): Promise<string | null> {
  const holders = await tx.all<LeaseRow>('leasesConflictCandidates', { key: request.key, isPath });
  for (const holder of holders) {
    if (!conflicts(request, holder)) continue;
    if (expired(holder, tx.now)) {
      if (clear) await expireLease(tx, holder);
      continue;
    }
    return describe(holder, 'held by');
  }
  const ahead = await tx.all<WaiterRow>('waitersBefore', { id: waiterId ?? Number.MAX_SAFE_INTEGER, key: request.key, isPath });
  for (const waiter of ahead) {
    if (!conflicts(request, waiter)) continue;
    if (waiterGone(waiter, tx.now)) {
      if (clear) await tx.run('waiterDelete', { id: waiter.id });
      continue;
    }
    return describe(waiter, 'queued behind');
  }
  return null;
}

/** Whether an attempt could take the lease now; reads only, so a waiter writes only when it could. */
export async function couldTake(tx: StoreTx, request: LeaseRequest, waiterId: number | null): Promise<boolean> {
  return (await obstacle(tx, request, isPathKey(request.key) ? 1 : 0, waiterId, false)) === null;
}

/**
 * One attempt to take a lease, for the waiter `waiterId` (null: not queued),
 * whose entry goes when it is granted. `handedOff`: the lease row names the
 * waiter, which collects it with grantedTo.
 */
export async function attempt(tx: StoreTx, request: LeaseRequest, waiterId: number | null, handedOff = false): Promise<Attempt> {
  await lockLease(tx, request.key);
  const overQuota = await leaseQuota(tx, request, handedOff);
  if (overQuota !== null) return { granted: false, blockedBy: overQuota };
  const isPath = isPathKey(request.key) ? 1 : 0;
  const blockedBy = await obstacle(tx, request, isPath, waiterId, true);
  if (blockedBy !== null) return { granted: false, blockedBy };
  const fence = await tx.get<{ last_token: number }>('fenceGet', { key: request.key });
  const token = await tx.nextToken(fence?.last_token ?? 0);
  tx.defer('fenceSet', { key: request.key, token });
  const row: LeaseRow = {
    key: request.key,
    token,
    owner: request.owner,
    mode: request.mode,
    is_path: isPath,
    session_id: request.sessionId,
    acquired_at: tx.now,
    expires_at: request.ttlMs === 0 ? null : tx.now + request.ttlMs,
  };
  tx.defer('leaseInsert', {
    key: row.key,
    token,
    owner: row.owner,
    mode: row.mode,
    isPath,
    sessionId: row.session_id,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
    waiterId: handedOff ? waiterId : null,
  });
  if (waiterId !== null) await tx.run('waiterDelete', { id: waiterId });
  const lease = leaseFromRow(row);
  await emit(tx, 'lease.acquired', lease.key, lease.owner, { token, mode: lease.mode, expiresAt: lease.expiresAt, sessionId: lease.sessionId });
  return { granted: true, lease };
}

/** `idempotency`: the caller's key and request hash, recorded with the lease if a release hands it over. */
export async function enqueueWaiter(tx: StoreTx, request: LeaseRequest, idempotency?: { key: string; hash: string }): Promise<number> {
  const me = hostIdentity();
  const result = await tx.run('waiterInsert', {
    key: request.key,
    owner: request.owner,
    mode: request.mode,
    isPath: isPathKey(request.key) ? 1 : 0,
    now: tx.now,
    host: me.hostname,
    pid: process.pid,
    pidStart: null,
    ttlMs: request.ttlMs,
    sessionId: request.sessionId,
    idemKey: idempotency?.key ?? null,
    idemHash: idempotency?.hash ?? null,
  });
  return result.lastId;
}

/** False when the entry is gone (handed a lease that ended before it was collected, or swept). */
export async function touchWaiter(tx: StoreTx, id: number): Promise<boolean> {
  return (await tx.run('waiterTouch', { id, now: tx.now })).changes > 0;
}

/** The lease a release handed to this waiter, if it is still held. */
export async function grantedTo(tx: StoreTx, waiterId: number): Promise<Lease | undefined> {
  const row = await tx.get<LeaseRow>('leaseByWaiter', { id: waiterId });
  return row === undefined || expired(row, tx.now) ? undefined : leaseFromRow(row);
}

/**
 * A waiter gives up (timeout, abort): its entry goes, and a lease handed to it
 * in the meantime is released again, to the next in line. `key`: the one it
 * waited for. `idempotency`: the waiter's key and request hash, whose record
 * of that lease goes too.
 */
export async function removeWaiter(tx: StoreTx, id: number, key: string, idempotency?: { key: string; hash: string }): Promise<void> {
  // The key's lock first, as a handoff takes it: else (PostgreSQL, read committed) a release could hand the
  // lease to this entry while it goes, and nobody would collect it until its TTL ran out.
  await lockLease(tx, key);
  tx.defer('waiterDelete', { id });
  const row = await tx.get<LeaseRow>('leaseByWaiter', { id });
  if (row === undefined) return;
  await lockLease(tx, row.key);
  tx.defer('leaseDelete', { key: row.key, token: row.token });
  // The handoff recorded the lease as the answer to the waiter's request, which its caller never got (it gave
  // up, or its connection dropped and it will retry): a retry under the same key must wait afresh, not be told
  // it holds a lease that is by now the next waiter's (the PostgreSQL chaos test saw a token go backwards).
  if (idempotency !== undefined) tx.defer('idemForget', idempotency);
  await emit(tx, 'lease.released', row.key, row.owner, { token: row.token, reason: 'the waiter it was handed to gave up' });
  await handOff(tx, row.key);
}

/**
 * After a hold on `key` ended: grants the lease to the waiters first in line
 * for it, in order, while they can have it (several shared ones at once).
 * Stops at the first that cannot, so nobody is served out of turn; a waiter
 * passed over looks for itself, as before.
 */
export async function handOff(tx: StoreTx, key: string): Promise<void> {
  await lockLease(tx, key);
  const released = { key, mode: 'exclusive' as const };
  // Any path waiter may overlap a path key; other keys have only their own (an indexed lookup, on every release).
  const waiters = isPathKey(key) ? await tx.all<WaiterRow>('waitersFor', { key, isPath: 1 }) : await tx.all<WaiterRow>('waitersByKey', { key });
  for (const w of waiters) {
    if (!conflicts(released, w)) continue;
    if (waiterGone(w, tx.now)) {
      tx.defer('waiterDelete', { id: w.id });
      continue;
    }
    if (w.ttl_ms === null) return;
    if (w.session_id !== null) {
      const session = await tx.get<{ ended_at: number | null }>('sessionGet', { id: w.session_id });
      if (session === undefined || session.ended_at !== null) return;
    }
    const request: LeaseRequest = { key: w.key, owner: w.owner, mode: w.mode, ttlMs: w.ttl_ms, sessionId: w.session_id };
    const result = await attempt(tx, request, w.id, true);
    if (!result.granted) return;
    if (w.idem_key !== null && w.idem_hash !== null) await rememberHashed(tx, w.idem_key, w.idem_hash, result.lease);
  }
}

export async function expireLease(tx: StoreTx, row: LeaseRow): Promise<void> {
  await lockLease(tx, row.key);
  tx.defer('leaseDelete', { key: row.key, token: row.token });
  await emit(tx, 'lease.expired', row.key, row.owner, { token: row.token, expiresAt: row.expires_at });
}

/**
 * The lease a caller presents, if it is held now. A token that is not (or no
 * longer) the holder's is STALE_TOKEN; a held one past its expiry, LEASE_EXPIRED.
 */
export async function heldLease(tx: StoreTx, ref: LeaseRef): Promise<LeaseRow> {
  await lockLease(tx, ref.key);
  const row = await tx.get<LeaseRow>('leaseGet', { key: ref.key, token: ref.token });
  if (row === undefined) {
    const holders = await tx.all<LeaseRow>('leaseByKey', { key: ref.key });
    const now = holders.filter((h) => !expired(h, tx.now)).map((h) => h.token);
    throw new BatonError('STALE_TOKEN', `token ${ref.token} does not hold ${JSON.stringify(ref.key)}${now.length ? ` (held now with token ${now.join(', ')})` : ' (not held now)'}`, {
      details: { key: ref.key, token: ref.token },
    });
  }
  if (expired(row, tx.now)) {
    throw new BatonError('LEASE_EXPIRED', `the lease on ${JSON.stringify(ref.key)} with token ${ref.token} expired at ${new Date(row.expires_at!).toISOString()}`, {
      details: { key: ref.key, token: ref.token, expiresAt: row.expires_at },
    });
  }
  return row;
}

export async function renewLease(tx: StoreTx, ref: LeaseRef, ttlMs: number): Promise<Lease> {
  const row = await heldLease(tx, ref);
  if (ttlMs === 0 && row.session_id === null) throw invalid('ttlMs 0 (no expiry) needs a lease bound to a session');
  const expiresAt = ttlMs === 0 ? null : tx.now + ttlMs;
  tx.defer('leaseRenew', { key: ref.key, token: ref.token, expiresAt });
  return leaseFromRow({ ...row, expires_at: expiresAt });
}

/** Releases the caller's own hold; an expired one that nobody took yet is released too. */
export async function releaseLease(tx: StoreTx, ref: LeaseRef): Promise<void> {
  await lockLease(tx, ref.key);
  const row = await tx.get<LeaseRow>('leaseGet', { key: ref.key, token: ref.token });
  if (row === undefined) await heldLease(tx, ref);
  tx.defer('leaseDelete', { key: ref.key, token: ref.token });
  await emit(tx, 'lease.released', ref.key, row!.owner, { token: ref.token });
  await handOff(tx, ref.key);
}

export async function forceRelease(tx: StoreTx, key: string, token: number | undefined, reason: string): Promise<number> {
  await lockLease(tx, key);
  const rows = (await tx.all<LeaseRow>('leaseByKey', { key })).filter((r) => token === undefined || r.token === token);
  for (const row of rows) {
    tx.defer('leaseDelete', { key: row.key, token: row.token });
    await emit(tx, 'lease.released', row.key, row.owner, { token: row.token, forced: true, reason });
  }
  if (rows.length > 0) await handOff(tx, key);
  return rows.length;
}

export async function releaseSessionLeases(tx: StoreTx, sessionId: string, reason: string): Promise<number> {
  // Read again once the keys are locked: a row read before may have changed hands since.
  const seen = await tx.all<LeaseRow>('leasesBySession', { sessionId });
  if (seen.length === 0) return 0;
  await lockLeases(tx, seen.map((r) => r.key));
  const rows = await tx.all<LeaseRow>('leasesBySession', { sessionId });
  for (const row of rows) {
    tx.defer('leaseDelete', { key: row.key, token: row.token });
    await emit(tx, 'lease.released', row.key, row.owner, { token: row.token, sessionId, reason });
  }
  for (const key of new Set(rows.map((r) => r.key))) await handOff(tx, key);
  return rows.length;
}

export async function leaseInfo(tx: StoreTx, key: string): Promise<LeaseInfo> {
  const holders = (await tx.all<LeaseRow>('leaseByKey', { key })).filter((r) => !expired(r, tx.now)).map(leaseFromRow);
  const waiters: LeaseWaiter[] = (await tx.all<WaiterRow>('waitersByKey', { key }))
    .filter((w) => !waiterGone(w, tx.now))
    .map((w) => ({ key: w.key, owner: w.owner, mode: w.mode, since: w.since }));
  return { key, holders, waiters };
}

export async function listLeases(tx: StoreTx, prefix: string): Promise<Lease[]> {
  return (await tx.all<LeaseRow>('leaseList', { prefix })).filter((r) => !expired(r, tx.now)).map(leaseFromRow);
}

export async function sweepLeases(tx: StoreTx): Promise<number> {
  // As releaseSessionLeases: locked, then read again (a lease renewed meanwhile is not expired).
  const seen = await tx.all<LeaseRow>('leasesExpired', { now: tx.now });
  if (seen.length > 0) await lockLeases(tx, seen.map((r) => r.key));
  const rows = seen.length === 0 ? seen : await tx.all<LeaseRow>('leasesExpired', { now: tx.now });
  for (const row of rows) await expireLease(tx, row);
  for (const key of new Set(rows.map((r) => r.key))) await handOff(tx, key);
  const stale = await tx.all<WaiterRow>('waitersStale', { before: tx.now - WAITER_STALE_MS });
  for (const w of stale) await tx.run('waiterDelete', { id: w.id });
  return rows.length;
}
