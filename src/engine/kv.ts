// Shared state: a small key-value store with revisions, compare-and-swap and
// keys bound to leases (docs/shared-state.md). A change's revision is the seq
// of the event it writes (kv.put, kv.deleted), so revisions strictly increase
// store-wide in commit order, and a watch is a subscription to those events.
//
// Leased keys: a key bound to a lease that no longer holds (released, expired,
// its session ended) reads as absent at once, with no work on the lease's own
// paths; the sweeper deletes it and writes its kv.deleted (sweepKv), or the
// next put or delete of the key does.
//
// PostgreSQL (READ COMMITTED): a put or delete locks `kv:<key>` (the key may
// not exist yet), then reads its row FOR UPDATE (the sweeper skips rows so
// locked and never waits for a writer), so a compare-and-swap is exact.
import type { KvDeleteResult, KvEntry, KvListResult, LeaseRef } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { DEFAULT_LIST_LIMIT, KV_SWEEP_BATCH, MAX_KEY_LENGTH, MAX_KV_LIST_BYTES, MAX_KV_LIST_LIMIT, MAX_KV_VALUE_BYTES } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { lastEventSeq } from './events.ts';
import { checkPrefix, checkRef, heldLease } from './leases.ts';
import { invalid, optionalInt, requireInt, requireString, toJson } from './validate.ts';

interface KvRow {
  [column: string]: unknown;
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease_key: string | null;
  lease_token: number | null;
  /** 1 (true on PostgreSQL) unless bound to a lease that no longer holds. */
  live?: unknown;
}

export interface CheckedPut {
  key: string;
  /** The value's JSON text. */
  text: string;
  expectRevision: number | null;
  lease: LeaseRef | null;
}

export interface CheckedDelete {
  key: string;
  expectRevision: number | null;
}

export interface CheckedList {
  prefix: string;
  /** The least string above every key that starts with prefix: the list is the key range [prefix, upper), which the primary key serves. */
  upper: string;
  after: string;
  limit: number;
}

// --- argument checks, made before the transaction -----------------------

export function checkKvKey(key: unknown): string {
  return requireString('key', key, { max: MAX_KEY_LENGTH });
}

function checkExpect(options: { expectRevision?: unknown }): number | null {
  return options.expectRevision === undefined || options.expectRevision === null ? null : requireInt('expectRevision', options.expectRevision, { min: 0 });
}

/** An options object with only the fields named: a misspelt expectRevision must not make a compare-and-swap a plain put. */
function checkOptions(options: unknown, fields: readonly string[]): { expectRevision?: unknown; lease?: unknown } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('options must be an object');
  const unknown = Object.keys(options).find((k) => !fields.includes(k) && (options as Record<string, unknown>)[k] !== undefined);
  if (unknown !== undefined) throw invalid(`unknown option ${JSON.stringify(unknown)}; it takes ${fields.join(', ')}`);
  return options;
}

export function checkPut(key: unknown, value: unknown, options: unknown): CheckedPut {
  const k = checkKvKey(key);
  if (value === undefined) throw invalid(`kvPut ${JSON.stringify(k)} needs a value (any JSON value; null is one)`);
  const text = toJson('value', value)!;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_KV_VALUE_BYTES) throw invalid(`the value of ${JSON.stringify(k)} is ${bytes} bytes as JSON; at most ${MAX_KV_VALUE_BYTES}`);
  const o = checkOptions(options, ['expectRevision', 'lease', 'idempotencyKey']);
  return { key: k, text, expectRevision: checkExpect(o), lease: o.lease === undefined || o.lease === null ? null : checkRef(o.lease) };
}

export function checkDelete(key: unknown, options: unknown): CheckedDelete {
  return { key: checkKvKey(key), expectRevision: checkExpect(checkOptions(options, ['expectRevision', 'idempotencyKey'])) };
}

export function checkList(options: unknown): CheckedList {
  const o = checkOptions(options, ['prefix', 'after', 'limit']) as { prefix?: string; after?: unknown; limit?: unknown };
  const after = o.after === undefined || o.after === '' ? '' : requireString('after', o.after, { max: MAX_KEY_LENGTH });
  const prefix = checkPrefix(o);
  return { prefix, upper: prefixEnd(prefix), after, limit: optionalInt('limit', o.limit, DEFAULT_LIST_LIMIT, { min: 1, max: MAX_KV_LIST_LIMIT }) };
}

const MAX_CODE_POINT = 0x10ffff;
/** Above every key: keys are at most MAX_KEY_LENGTH code points. */
const ABOVE_ALL = String.fromCodePoint(MAX_CODE_POINT).repeat(MAX_KEY_LENGTH + 1);

/**
 * The least string greater than every string that starts with `prefix`, in
 * code-point order (how both stores compare keys): the prefix with its last
 * code point below U+10FFFF raised by one, what follows it dropped.
 */
export function prefixEnd(prefix: string): string {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0 && points.at(-1) === MAX_CODE_POINT) points.pop();
  if (points.length === 0) return ABOVE_ALL;
  const last = points.pop()! + 1;
  // Past the surrogates, which are no code points of their own in UTF-8.
  points.push(last === 0xd800 ? 0xe000 : last);
  return String.fromCodePoint(...points);
}

// --- the rules, inside one transaction ------------------------------------

function isLive(row: KvRow): boolean {
  return row.live === true || Number(row.live) === 1;
}

function entryFromRow(row: KvRow): KvEntry {
  return {
    key: row.key,
    value: JSON.parse(row.value) as unknown,
    revision: row.mod_revision,
    createRevision: row.create_revision,
    version: row.version,
    lease: row.lease_key === null ? null : { key: row.lease_key, token: row.lease_token! },
  };
}

/**
 * Appends a kv event and returns its seq, the change's revision. The store
 * writes `revision` (and `createRevision`, for a put that creates the key)
 * first into the data, from the seq it hands out: `fields` is the rest, as
 * JSON object text.
 */
async function kvEvent(tx: StoreTx, type: 'kv.put' | 'kv.deleted', key: string, fields: string, created: boolean): Promise<number> {
  return (await tx.run('kvEventInsert', { now: tx.now, type, key, created: created ? 1 : 0, data: fields })).lastId;
}

/** Deletes a key whose lease ended, and says so (reason: lease ended). */
async function endStale(tx: StoreTx, row: KvRow): Promise<void> {
  tx.defer('kvDelete', { key: row.key });
  tx.defer('kvEventInsert', { now: tx.now, type: 'kv.deleted', key: row.key, created: 0, data: deletedFields(row, 'lease ended') });
}

function deletedFields(row: KvRow, reason: 'deleted' | 'lease ended'): string {
  const lease = row.lease_key === null ? null : { key: row.lease_key, token: row.lease_token };
  return JSON.stringify({ key: row.key, prevRevision: row.mod_revision, reason, lease });
}

/** The key locked, its row read, a stale one (lease ended) removed: the live row or undefined. */
async function lockedLive(tx: StoreTx, key: string): Promise<KvRow | undefined> {
  await tx.lock(`kv:${key}`);
  const row = await tx.get<KvRow>('kvGet', { key, now: tx.now });
  if (row === undefined || isLive(row)) return row;
  await endStale(tx, row);
  return undefined;
}

function checkRevision(key: string, expected: number | null, current: KvRow | undefined): void {
  const actual = current?.mod_revision ?? 0;
  if (expected === null || expected === actual) return;
  const now = actual === 0 ? 'does not exist' : `is at revision ${actual}`;
  const wanted = expected === 0 ? 'expected it absent (expectRevision 0)' : `expected revision ${expected}`;
  throw new BatonError('CONFLICT', `kv key ${JSON.stringify(key)} ${now}; ${wanted}: read it again and retry`, {
    details: { key, expectedRevision: expected, actualRevision: actual },
  });
}

export async function kvPut(tx: StoreTx, put: CheckedPut): Promise<KvEntry> {
  const current = await lockedLive(tx, put.key);
  checkRevision(put.key, put.expectRevision, current);
  if (put.lease !== null) await heldLease(tx, put.lease);
  const version = (current?.version ?? 0) + 1;
  const head = `{"key":${JSON.stringify(put.key)},"value":${put.text},"version":${version},"lease":${JSON.stringify(put.lease)}`;
  const fields = current === undefined ? `${head}}` : `${head},"createRevision":${current.create_revision}}`;
  const revision = await kvEvent(tx, 'kv.put', put.key, fields, current === undefined);
  const row: KvRow = {
    key: put.key,
    value: put.text,
    create_revision: current?.create_revision ?? revision,
    mod_revision: revision,
    version,
    lease_key: put.lease?.key ?? null,
    lease_token: put.lease?.token ?? null,
  };
  tx.defer('kvUpsert', { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: revision, version, leaseKey: row.lease_key, leaseToken: row.lease_token });
  return entryFromRow(row);
}

export async function kvDelete(tx: StoreTx, del: CheckedDelete): Promise<KvDeleteResult> {
  const current = await lockedLive(tx, del.key);
  checkRevision(del.key, del.expectRevision, current);
  if (current === undefined) return { key: del.key, deleted: false, revision: null };
  tx.defer('kvDelete', { key: del.key });
  const revision = await kvEvent(tx, 'kv.deleted', del.key, deletedFields(current, 'deleted'), false);
  return { key: del.key, deleted: true, revision };
}

export async function kvGet(tx: StoreTx, key: string): Promise<KvEntry | null> {
  const row = await tx.get<KvRow>('kvGet', { key, now: tx.now });
  return row !== undefined && isLive(row) ? entryFromRow(row) : null;
}

/**
 * A page of keys: at most `limit`, and values of at most MAX_KV_LIST_BYTES
 * together (the first always comes). The store passes over rows that begin
 * past the byte bound, so a page of large values is not read into memory;
 * the one row past the page it returns says there is more.
 */
export async function kvList(tx: StoreTx, list: CheckedList): Promise<KvListResult> {
  const rows = await tx.all<KvRow>('kvList', { prefix: list.prefix, upper: list.upper, after: list.after, limit: list.limit + 1, maxBytes: MAX_KV_LIST_BYTES, now: tx.now });
  const entries: KvEntry[] = [];
  let bytes = 0;
  for (const row of rows) {
    bytes += Buffer.byteLength(row.value);
    if (entries.length === list.limit || (entries.length > 0 && bytes > MAX_KV_LIST_BYTES)) break;
    entries.push(entryFromRow(row));
  }
  return { entries, revision: await lastEventSeq(tx), more: entries.length < rows.length };
}

/** The sweeper's part: deletes keys whose lease ended, each with its kv.deleted. Returns how many. */
export async function sweepKv(tx: StoreTx): Promise<number> {
  const rows = await tx.all<KvRow>('kvStale', { now: tx.now, limit: KV_SWEEP_BATCH });
  for (const row of rows) await endStale(tx, row);
  return rows.length;
}
