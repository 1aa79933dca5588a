// Release requests: an agent waiting for (or refused) a key asks its holders
// to let go. One request per hold (key + fencing token + holder's name): the
// holder is told in its inbox (a 'release-request' message), and answers
// 'declined', or 'released' once it let go. The hold ending in any way
// (release, expiry, session end, force-release) answers 'released' by itself,
// and an unanswered request lapses; either way the asker is told (a
// 'release-answer' message). Nothing here runs on the lease release path,
// which is benchmarked: the sweeper answers for ended holds and lapsed
// requests, and the holder's own 'released' does. A read writes nothing: it
// shows a request whose hold ended or whose time ran out as it now stands.
import type { AnswerReleaseOptions, ReleaseRequest, ReleaseRequestFilter, ReleaseRequestState, RequestReleaseOptions } from '../coordinator.ts';
import { BatonError, isBatonError } from '../errors.ts';
import {
  BATON_SENDER, DEFAULT_LIST_LIMIT, DEFAULT_RELEASE_REQUEST_TTL_MS, MAX_LIST_LIMIT, MAX_NAME_LENGTH, MAX_REASON_LENGTH, MAX_RELEASE_REQUEST_TTL_MS,
  RELEASE_ANSWERS, RELEASE_REQUEST_RETENTION_MS, RELEASE_REQUEST_STATES,
} from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { holderNameIn } from './holder-name.ts';
import { conflicts, isPathKey, normalizeKey, type LeaseRow } from './leases.ts';
import { deliver } from './messages.ts';
import { invalid, optionalInt, optionalString, requireInt, requireOneOf, requireString } from './validate.ts';
import type { Transactions } from './waiting.ts';

interface RequestRow {
  [column: string]: unknown;
  id: number;
  key: string;
  token: number;
  holder: string;
  asker: string;
  reason: string;
  state: ReleaseRequestState;
  answer: string | null;
  thread: string | null;
  created_at: number;
  expires_at: number;
  answered_at: number | null;
  /** The hold asked about is still there (SQLite 0/1, PostgreSQL a boolean). */
  held: number | boolean;
}


// --- argument checks, made before the transaction -----------------------

export interface CheckedRequest {
  key: string;
  from: string;
  reason: string;
  ttlMs: number;
}

export function checkRequestRelease(key: unknown, options: RequestReleaseOptions): CheckedRequest {
  if (typeof options !== 'object' || options === null) throw invalid('requestRelease needs options { from, reason }');
  return {
    key: normalizeKey(key),
    from: requireString('from', options.from, { max: MAX_NAME_LENGTH }),
    reason: requireString('reason', options.reason, { max: MAX_REASON_LENGTH }),
    ttlMs: optionalInt('ttlMs', options.ttlMs, DEFAULT_RELEASE_REQUEST_TTL_MS, { min: 1, max: MAX_RELEASE_REQUEST_TTL_MS }),
  };
}

export interface CheckedAnswer {
  id: number;
  from: string;
  answer: (typeof RELEASE_ANSWERS)[number];
  reason: string | null;
}

export function checkAnswerRelease(id: unknown, options: AnswerReleaseOptions): CheckedAnswer {
  if (typeof options !== 'object' || options === null) throw invalid('answerRelease needs options { from, answer }');
  return {
    id: requireInt('id', id, { min: 1 }),
    from: requireString('from', options.from, { max: MAX_NAME_LENGTH }),
    answer: requireOneOf('answer', options.answer, RELEASE_ANSWERS),
    reason: optionalString('reason', options.reason, { max: MAX_REASON_LENGTH }) ?? null,
  };
}

export interface CheckedFilter {
  key: string | null;
  holder: string | null;
  asker: string | null;
  state: ReleaseRequestState | null;
  limit: number;
}

export function checkReleaseFilter(options: ReleaseRequestFilter | undefined): CheckedFilter {
  const o = options ?? {};
  if (typeof o !== 'object') throw invalid('releaseRequests takes options { key?, holder?, asker?, state?, limit? }');
  return {
    key: o.key === undefined ? null : normalizeKey(o.key),
    holder: optionalString('holder', o.holder, { max: MAX_NAME_LENGTH }) ?? null,
    asker: optionalString('asker', o.asker, { max: MAX_NAME_LENGTH }) ?? null,
    state: o.state === undefined ? null : requireOneOf('state', o.state, RELEASE_REQUEST_STATES),
    limit: optionalInt('limit', o.limit, DEFAULT_LIST_LIMIT, { min: 1, max: MAX_LIST_LIMIT }),
  };
}

// --- the rules, inside one transaction ------------------------------------

function requestFromRow(row: RequestRow): ReleaseRequest {
  return {
    id: row.id,
    key: row.key,
    token: row.token,
    holder: row.holder,
    asker: row.asker,
    reason: row.reason,
    state: row.state,
    answer: row.answer,
    thread: row.thread,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    answeredAt: row.answered_at,
  };
}

const isHeld = (row: RequestRow): boolean => row.held === true || row.held === 1;

/** What a pending request has come to by itself, if anything: its hold ended ('released'), or its time ran out ('lapsed'). */
function outcome(row: RequestRow, now: number): 'released' | 'lapsed' | null {
  if (!isHeld(row)) return 'released';
  return row.expires_at <= now ? 'lapsed' : null;
}

interface Hold {
  lease: LeaseRow;
  /** The name the holder is known by: its session's, else the lease's owner (an MCP agent's owner carries its reason too). */
  name: string;
}

/** The live holds that stand in the way of taking `key` exclusively: its own, and for a path key the overlapping ones. */
async function holdsOf(tx: StoreTx, key: string): Promise<Hold[]> {
  const rows = await tx.all<LeaseRow>('leasesConflictCandidates', { key, isPath: isPathKey(key) ? 1 : 0 });
  const holds: Hold[] = [];
  for (const lease of rows) {
    if (!conflicts({ key, mode: 'exclusive' }, lease) || (lease.expires_at !== null && lease.expires_at <= tx.now)) continue;
    holds.push({ lease, name: await holderNameIn(tx, lease.owner, lease.session_id) });
  }
  return holds;
}

function holderNote(row: { id: number; key: string; token: number; holder: string; asker: string; reason: string; expires_at: number }, wanted: string): string {
  const overlap = wanted === row.key ? '' : ` (it wants ${wanted}, which overlaps it)`;
  return [
    `${row.asker} asks you to release ${row.key}, which you hold with token ${row.token}${overlap}.`,
    `Reason: ${row.reason}`,
    `If you can, finish and release it: ${row.asker} is told by itself. If you cannot, decline: answer_release with id ${row.id} and a reason`,
    `(CLI: baton release-request decline ${row.id} --from ${JSON.stringify(row.holder)} --reason ...).`,
    `Unanswered, it lapses at ${new Date(row.expires_at).toISOString()}.`,
  ].join('\n');
}

/**
 * Asks each live holder of `key` to release it; the asker's own holds are
 * skipped. A pending request from the same asker for the same hold is
 * returned again, not repeated (the holder is told once).
 */
export async function requestRelease(tx: StoreTx, r: CheckedRequest): Promise<ReleaseRequest[]> {
  // One asker's requests one at a time (PostgreSQL): two at once would both find no pending one and ask twice.
  await tx.lock(`release-request:${r.from}`);
  const holds = await holdsOf(tx, r.key);
  if (holds.length === 0) {
    throw new BatonError('NOT_FOUND', `nothing holds ${JSON.stringify(r.key)} now: there is no one to ask; acquire it`, { details: { key: r.key } });
  }
  const others = holds.filter((h) => h.name !== r.from && h.lease.owner !== r.from);
  if (others.length === 0) {
    const tokens = holds.map((h) => h.lease.token).join(', ');
    throw invalid(`${JSON.stringify(r.from)} holds ${JSON.stringify(r.key)} itself (token ${tokens}): there is no one else to ask; release it yourself`);
  }
  const made: ReleaseRequest[] = [];
  for (const { lease, name } of others) {
    const pending = await tx.get<RequestRow>('releasePending', { key: lease.key, token: lease.token, asker: r.from });
    if (pending !== undefined && pending.expires_at > tx.now) {
      made.push(requestFromRow(pending));
      continue;
    }
    if (pending !== undefined) await settle(tx, pending, 'lapsed', null);
    made.push(await ask(tx, r, lease, name));
  }
  return made;
}

async function ask(tx: StoreTx, r: CheckedRequest, lease: LeaseRow, holder: string): Promise<ReleaseRequest> {
  const expiresAt = tx.now + r.ttlMs;
  const { lastId: id } = await tx.run('releaseInsert', { key: lease.key, token: lease.token, holder, asker: r.from, reason: r.reason, now: tx.now, expiresAt });
  const row = { id, key: lease.key, token: lease.token, holder, asker: r.from, reason: r.reason, expires_at: expiresAt };
  const sent = await deliver(tx, {
    from: r.from,
    to: { agent: holder },
    subject: `release request ${id}: ${r.from} asks you to release ${lease.key}`,
    body: holderNote(row, r.key),
    importance: 'high',
    kind: 'release-request',
    // The key: the MCP tools' next-call note names it (messages.ts); the subject and body carry the id.
    ref: lease.key,
  });
  tx.defer('releaseSetThread', { id, thread: sent.thread });
  await emit(tx, 'release.requested', lease.key, r.from, { id, token: lease.token, holder, asker: r.from, reason: r.reason, expiresAt, ...(r.key === lease.key ? {} : { wanted: r.key }) });
  return {
    id, key: lease.key, token: lease.token, holder, asker: r.from, reason: r.reason, state: 'pending', answer: null, thread: sent.thread,
    createdAt: tx.now, expiresAt, answeredAt: null,
  };
}

function askerNote(row: RequestRow, state: Exclude<ReleaseRequestState, 'pending'>, reason: string | null): { subject: string; body: string } {
  const because = reason === null ? '' : `: ${reason}`;
  switch (state) {
    case 'released':
      return { subject: `${row.key} released`, body: `${row.holder} no longer holds ${row.key} (token ${row.token})${because}. Acquire it now (reserve_paths / acquire_lock); another agent may be faster.` };
    case 'declined':
      return { subject: `${row.holder} declined to release ${row.key}`, body: `${row.holder} keeps ${row.key}${because}. Do other work, or wait for it (wait_seconds).` };
    case 'lapsed':
      return { subject: `no answer about ${row.key}`, body: `${row.holder} did not answer your request to release ${row.key} in time and still holds it. Ask again, wait for it, or do other work.` };
  }
}

/**
 * Answers a pending request and tells its asker; false when it was answered
 * already (another answer, or the sweeper, came first).
 */
async function settle(tx: StoreTx, row: RequestRow, state: Exclude<ReleaseRequestState, 'pending'>, reason: string | null): Promise<boolean> {
  // Before the request's row: the sweeper holds 'messages' while it settles rows (lock order: messages.ts, deliver).
  await tx.lock('messages');
  const { changes } = await tx.run('releaseAnswer', { id: row.id, state, answer: reason, now: tx.now });
  if (changes === 0) return false;
  const by = state === 'lapsed' ? null : row.holder;
  const note = askerNote(row, state, reason);
  // 'high': the asker waits for it, and the MCP tools' next-call note counts high messages.
  try {
    await deliver(tx, { from: by ?? BATON_SENDER, to: { agent: row.asker }, ...note, thread: row.thread, importance: 'high', kind: 'release-answer', ref: String(row.id) });
  } catch (error) {
    // An asker no longer known anywhere (its request message pruned, no session): the answer stands, in the list and the event.
    if (!isBatonError(error, 'NOT_FOUND')) throw error;
  }
  await emit(tx, 'release.answered', row.key, by, { id: row.id, key: row.key, answer: state, by, reason });
  return true;
}

/**
 * The holder's answer. 'released' is refused while it still holds the key. A
 * pending request whose hold ended (or whose time ran out) is answered so,
 * whatever this answer says: the result's state is what counts. One answered
 * already is returned as is if the answer is the same, else CONFLICT.
 */
export async function answerRelease(tx: StoreTx, a: CheckedAnswer): Promise<ReleaseRequest> {
  const row = await tx.get<RequestRow>('releaseGet', { id: a.id, now: tx.now });
  if (row === undefined) throw new BatonError('NOT_FOUND', `no release request ${a.id}`, { details: { id: a.id } });
  if (row.holder !== a.from) {
    throw new BatonError('PERMISSION_DENIED', `release request ${a.id} asks ${JSON.stringify(row.holder)}, not ${JSON.stringify(a.from)}: only its holder answers it`, { details: { id: a.id, holder: row.holder } });
  }
  if (row.state === 'pending') {
    const already = outcome(row, tx.now);
    if (already === null && a.answer === 'released') {
      throw new BatonError('CONFLICT', `you still hold ${row.key} (token ${row.token}): release it first (then the request is answered 'released' by itself)`, { details: { id: a.id, key: row.key, token: row.token } });
    }
    const state = already ?? a.answer;
    // false: another answer (the sweeper's) came first; what it recorded is read below.
    if (await settle(tx, row, state, state === a.answer ? a.reason : null)) return requestFromRow({ ...row, state, answer: state === a.answer ? a.reason : null, answered_at: tx.now });
  }
  const now = (await tx.get<RequestRow>('releaseGet', { id: a.id, now: tx.now }))!;
  if (now.state !== a.answer) {
    throw new BatonError('CONFLICT', `release request ${a.id} was answered already: ${now.state}${now.answer === null ? '' : ` (${now.answer})`}`, { details: { id: a.id, state: now.state } });
  }
  return requestFromRow(now);
}

/** The answer recorded for a request whose hold ended by itself. */
const HOLD_ENDED = 'the hold ended';

/** Answers every pending request whose hold ended ('released') or whose time ran out ('lapsed'). Returns how many. */
export async function answerDue(tx: StoreTx): Promise<number> {
  let n = 0;
  // In the order asked (the store reads them through its index of pending requests, unordered).
  const due = (await tx.all<RequestRow>('releaseDue', { now: tx.now })).sort((a, b) => a.id - b.id);
  for (const row of due) {
    const state = outcome(row, tx.now);
    if (state !== null && (await settle(tx, row, state, state === 'released' ? HOLD_ENDED : null))) n++;
  }
  return n;
}

/** The sweeper's part: answer what is due, and forget answered requests past their retention. */
export async function sweepReleaseRequests(tx: StoreTx): Promise<number> {
  const n = await answerDue(tx);
  tx.defer('releasePrune', { before: tx.now - RELEASE_REQUEST_RETENTION_MS });
  return n;
}

/**
 * Requests, newest first, as they stand now; a pure read (a read-scope token
 * writes nothing). A pending request whose hold ended shows as 'released'
 * (answer: the hold ended), one whose time ran out as 'lapsed', both with
 * answeredAt null: the sweeper records the answer and tells the asker (the
 * `state` filter matches this state too, in the store).
 */
export async function listReleaseRequests(db: Transactions, f: CheckedFilter): Promise<ReleaseRequest[]> {
  return db.read(async (tx) => {
    const rows = await tx.all<RequestRow>('releaseList', { ...f, now: tx.now });
    return rows.map((row) => {
      const state = row.state === 'pending' ? outcome(row, tx.now) : null;
      return requestFromRow(state === null ? row : { ...row, state, answer: state === 'released' ? HOLD_ENDED : null });
    });
  });
}
