// Agents and their sessions. A session ends when it is ended, when its
// heartbeat lapses, or (same host) when its process is gone; ending it
// releases its leases and puts its claimed tasks back at once.
import { randomUUID } from 'node:crypto';
import type { RegisterOptions, Session } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { hostIdentity, isProcessAlive, processStartTime } from '../files/process-info.ts';
import { DEFAULT_SESSION_TTL_MS, MAX_NAME_LENGTH, MAX_PID, MAX_TTL_MS, MIN_SESSION_TTL_MS } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { releaseSessionLeases } from './leases.ts';
import { requeueSessionClaims } from './task-outcomes.ts';
import { checkJson, invalid, optionalInt, optionalReason, optionalString, requireInt, requireSessionId, requireString } from './validate.ts';

export interface SessionRow {
  [column: string]: unknown;
  id: string;
  name: string;
  kind: string;
  host: string;
  pid: number | null;
  pid_start: number | null;
  boot_id: string | null;
  labels: string;
  started_at: number;
  heartbeat_at: number;
  ttl_ms: number;
  ended_at: number | null;
  end_reason: string | null;
}

export function sessionFromRow(row: SessionRow): Session {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    host: row.host,
    pid: row.pid,
    labels: JSON.parse(row.labels) as Record<string, string>,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    ttlMs: row.ttl_ms,
    endedAt: row.ended_at,
    endReason: row.end_reason,
  };
}

export interface SessionInput {
  name: string;
  kind: string;
  host: string;
  pid: number | null;
  labels: Record<string, string>;
  ttlMs: number;
}

export function checkRegister(options: RegisterOptions): SessionInput {
  if (typeof options !== 'object' || options === null) throw invalid('register needs options { name, ... }');
  const given = options.labels ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw invalid('labels must be an object of strings');
  checkJson('labels', given);
  // Own entries only, copied: nothing inherited is read, and the caller's object is not kept.
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(given)) {
    if (typeof v !== 'string') throw invalid(`label ${JSON.stringify(k)} must be a string, not ${typeof v}`);
    labels[k] = v;
  }
  return {
    name: requireString('name', options.name, { max: MAX_NAME_LENGTH }),
    kind: optionalString('kind', options.kind, { max: MAX_NAME_LENGTH }) ?? 'agent',
    host: optionalString('host', options.host, { max: MAX_NAME_LENGTH }) ?? hostIdentity().hostname,
    pid: options.pid === null ? null : options.pid === undefined ? process.pid : requireInt('pid', options.pid, { min: 1, max: MAX_PID }),
    labels,
    ttlMs: optionalInt('ttlMs', options.ttlMs, DEFAULT_SESSION_TTL_MS, { min: MIN_SESSION_TTL_MS, max: MAX_TTL_MS }),
  };
}

export function checkSessionId(id: unknown): string {
  return requireSessionId(id);
}

export function checkEnd(sessionId: unknown, options: { reason?: string }): { sessionId: string; reason: string } {
  const reason = optionalReason(options.reason, 'ended');
  return { sessionId: checkSessionId(sessionId), reason };
}

export async function registerSession(tx: StoreTx, input: SessionInput): Promise<Session> {
  const me = hostIdentity();
  const local = input.host === me.hostname;
  const id = randomUUID();
  tx.defer('sessionInsert', {
    id,
    name: input.name,
    kind: input.kind,
    host: input.host,
    pid: input.pid,
    pidStart: local && input.pid !== null ? (processStartTime(input.pid) ?? null) : null,
    bootId: local ? me.bootId : null,
    labels: JSON.stringify(input.labels),
    now: tx.now,
    ttlMs: input.ttlMs,
  });
  await emit(tx, 'agent.registered', id, input.name, { kind: input.kind, host: input.host, pid: input.pid, labels: input.labels });
  return sessionFromRow((await tx.get<SessionRow>('sessionGet', { id }))!);
}

export async function getSessionRow(tx: StoreTx, id: string): Promise<SessionRow> {
  const row = await tx.get<SessionRow>('sessionGet', { id });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no session ${JSON.stringify(id)}`, { details: { sessionId: id } });
  return row;
}

export async function getSession(tx: StoreTx, id: string): Promise<Session> {
  return sessionFromRow(await getSessionRow(tx, id));
}

/** A session that is still live, or SESSION_ENDED naming why it ended. */
export async function liveSession(tx: StoreTx, id: string): Promise<SessionRow> {
  const row = await getSessionRow(tx, id);
  if (row.ended_at !== null) {
    throw new BatonError('SESSION_ENDED', `session ${id} (${row.name}) ended: ${row.end_reason ?? 'ended'}`, { details: { sessionId: id, reason: row.end_reason } });
  }
  return row;
}

/** Why a live session should end now, or null. */
export function endReasonFor(row: SessionRow, now: number): string | null {
  if (row.heartbeat_at + row.ttl_ms <= now) return 'heartbeat lapsed';
  const me = hostIdentity();
  if (row.host !== me.hostname || row.pid === null) return null;
  if (row.boot_id !== null && me.bootId !== null && row.boot_id !== me.bootId) return 'host rebooted';
  if (!isProcessAlive({ pid: row.pid, startTime: row.pid_start })) return 'process exited';
  return null;
}

export async function endSession(tx: StoreTx, row: SessionRow, reason: string): Promise<void> {
  const ended = await tx.run('sessionEnd', { id: row.id, now: tx.now, reason });
  if (ended.changes === 0) return;
  const leases = await releaseSessionLeases(tx, row.id, `session ended: ${reason}`);
  const tasks = await requeueSessionClaims(tx, row.id, `session ended: ${reason}`);
  await emit(tx, 'agent.ended', row.id, row.name, { reason, leasesReleased: leases, tasksRequeued: tasks });
}

export async function endSessionById(tx: StoreTx, id: string, reason: string): Promise<void> {
  await endSession(tx, await getSessionRow(tx, id), reason);
}

export async function heartbeat(tx: StoreTx, id: string): Promise<{ session: Session } | { endedBecause: string; row: SessionRow }> {
  const row = await liveSession(tx, id);
  const reason = endReasonFor(row, tx.now);
  if (reason === 'heartbeat lapsed' || reason === 'host rebooted') {
    await endSession(tx, row, reason);
    return { endedBecause: reason, row };
  }
  tx.defer('sessionHeartbeat', { id, now: tx.now });
  return { session: sessionFromRow({ ...row, heartbeat_at: tx.now }) };
}

export async function listSessions(tx: StoreTx, includeEnded: boolean | undefined): Promise<Session[]> {
  const rows = await tx.all<SessionRow>(includeEnded ? 'sessionListAll' : 'sessionList');
  return rows.map(sessionFromRow);
}

/** Ends every session whose heartbeat lapsed or whose process (on this host) is gone. */
export async function sweepSessions(tx: StoreTx): Promise<number> {
  const candidates = new Map<string, SessionRow>();
  for (const row of await tx.all<SessionRow>('sessionsLapsed', { now: tx.now })) candidates.set(row.id, row);
  for (const row of await tx.all<SessionRow>('sessionsOnHost', { host: hostIdentity().hostname })) candidates.set(row.id, row);
  let ended = 0;
  // Sessions of a daemon that stopped heartbeating its node (killed, or cut off from the database).
  for (const row of await tx.all<SessionRow>('sessionsOfLapsedNodes', { now: tx.now })) {
    candidates.delete(row.id);
    await endSession(tx, row, 'its daemon stopped answering (node lapsed)');
    ended++;
  }
  for (const row of candidates.values()) {
    const reason = endReasonFor(row, tx.now);
    if (reason !== null) {
      await endSession(tx, row, reason);
      ended++;
    }
  }
  return ended;
}
