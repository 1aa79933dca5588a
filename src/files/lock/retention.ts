// Retained releases. A process that releases an exclusive lock and asks for
// it again within the same event-loop turn (a loop of updates to one file)
// takes it straight back anyway (the streaks in waker.ts). Ending the
// generation on disk and starting a new one costs five namespace operations
// (write and link a record; rename, unlink, unlink), each a journal entry and
// most of an uncontended lock's price. So once a process has shown that it
// takes a lock straight back (the second release of a streak, and
// BACKSTOP_AFTER such releases since it started), its release is retained:
// taken back within the turn, the generation goes on under a new handle; not
// taken back, it ends at the end of the turn and the next waiter wakes, as a
// deferred wake would have. The streak bound applies alike.
//
// Other processes see the lock free at the end of the releasing turn, not at
// release(). A turn that never ends (a spawnSync of a tool that wants the same
// lock, a long computation) must not keep it: a backstop thread ends a
// retention that is still there after BACKSTOP_MS. The main thread and the
// backstop decide who ends or takes back a retention with one compare-and-swap
// on shared memory, so exactly one of them acts on the disk. Within this
// process nothing sees the difference: what reads the lock's files ends a
// retention first (finishRetained).
import { statSync, utimesSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker } from 'node:worker_threads';
import { lockPaths, privateName, type LockPaths } from './disk.ts';
import { endGeneration } from './generation.ts';
import type { LockRecord, LockType } from './record.ts';
import { dropStreak, wakeNext } from './waker.ts';

/** How long a retention may outlive a turn that does not end. */
export const BACKSTOP_MS = 5;

/**
 * Releases a process takes straight back before its backstop thread starts
 * and it retains. A Node worker thread costs about 100 ms of CPU to start on
 * the machines here (over 300 ms run from the .ts sources), more than the
 * namespace operations of a thousand releases: a script that updates a file
 * a few times in a row is better off without one, and eight processes that
 * all started one at their second release on two cores took a fifth of the
 * locks in their first half second that they took without.
 */
export const BACKSTOP_AFTER = 64;
let takenBack = 0;

// The state shared with the backstop thread (backstop.ts): Int32 words.
export const STATE = 0; // IDLE, RETAINED, ENDING (the backstop ends it)
export const SEQ = 1; // bumped at every retention
export const LENGTH = 2; // bytes of "<resourcePath>\0<ownerId>" in the names buffer
export const READY = 3; // the backstop runs
export const SLEEPING = 4; // the backstop waits for a retention (it must be notified)
export const SINCE = 5; // when the retention began: milliseconds of the process's monotonic clock, modulo 2^31
export const IDLE = 0;
export const RETAINED = 1;
export const ENDING = 2;
const NAMES_BYTES = 16 * 1024;
/** How long the main thread waits at most for the backstop to finish an end it began (a few syscalls). */
const ENDING_WAIT_MS = 1000;

const encoder = new TextEncoder();

export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n) & 0x7fffffff;

interface Backstop {
  state: Int32Array;
  names: Uint8Array;
}

let backstop: Backstop | undefined;
let backstopFailed = false;

function startBackstop(): void {
  if (backstop !== undefined || backstopFailed) return;
  try {
    const state = new Int32Array(new SharedArrayBuffer(8 * Int32Array.BYTES_PER_ELEMENT));
    const names = new Uint8Array(new SharedArrayBuffer(NAMES_BYTES));
    // The thread's code is a file of its own: .ts from the sources, .js from dist/.
    const entry = new URL(`./backstop${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    // No cap on its old generation: a thread that ran out of heap in the middle
    // of an end (a huge directory to list) would leave the end to the main thread.
    const worker = new Worker(entry, {
      workerData: { state: state.buffer, names: names.buffer },
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    // Never keeps the process alive; at exit, retentions are ended on the main thread.
    worker.unref();
    const failed = (): void => {
      if (backstop === undefined) return;
      backstopFailed = true;
      backstop = undefined;
      // It died in the middle of an end (the main thread may have stopped waiting for it): finish it here.
      if (Atomics.compareExchange(state, STATE, ENDING, IDLE) === ENDING) endNamed(names, Atomics.load(state, LENGTH));
    };
    worker.on('error', failed);
    worker.on('exit', failed);
    backstop = { state, names };
  } catch {
    backstopFailed = true; // no threads here: releases are never retained
  }
}

/**
 * Ends the retention named in the shared names buffer (`length` bytes of
 * "<resourcePath>\0<ownerId>") as its release would have: the backstop's
 * end, and the main thread's when the backstop died in the middle of one.
 */
export function endNamed(names: Uint8Array, length: number): void {
  const [resourcePath, ownerId] = Buffer.from(names.slice(0, length)).toString('utf8').split('\0') as [string, string];
  const paths = lockPaths(resourcePath);
  try {
    endGeneration(paths, ownerId, ownerId);
  } catch {
    // As a release: what is left is reclaimable by proof.
  }
  wakeNext(paths, ownerId);
}

interface Retained {
  paths: LockPaths;
  record: LockRecord;
  ttl: number | null;
  renewedAt: number;
  /** Ends the generation on disk and wakes the next waiter (the release it stands for). */
  end: () => void;
  timer: ReturnType<typeof setImmediate>;
}

/** One retention at a time: the common case is one lock updated in a loop. */
let current: Retained | undefined;

/**
 * Retains an exclusive release if the backstop runs (it is started on the
 * BACKSTOP_AFTER-th call); false if the caller must release now.
 */
export function retainRelease(paths: LockPaths, record: LockRecord, ttl: number | null, renewedAt: number, end: () => void): boolean {
  if (current !== undefined) finishRetained(current.paths.lockPath);
  // A worker thread can be terminated with no 'exit' event: it never retains.
  if (!isMainThread) return false;
  if (backstop === undefined && !backstopFailed && ++takenBack < BACKSTOP_AFTER) return false;
  startBackstop();
  if (backstop === undefined || Atomics.load(backstop.state, READY) !== 1) return false;
  const { state, names } = backstop;
  // The backstop may still be ending an earlier retention: then release now.
  if (Atomics.load(state, STATE) !== IDLE) return false;
  const written = encoder.encodeInto(`${paths.resourcePath}\0${record.ownerId}`, names);
  if (written.written >= NAMES_BYTES) return false;
  Atomics.store(state, LENGTH, written.written);
  Atomics.store(state, SINCE, monotonicMs());
  Atomics.add(state, SEQ, 1);
  Atomics.store(state, STATE, RETAINED);
  if (Atomics.load(state, SLEEPING) === 1) Atomics.notify(state, STATE);
  if (current === undefined) process.once('exit', finishAllRetained);
  current = { paths, record, ttl, renewedAt, end, timer: setImmediate(() => finishRetained(paths.lockPath)) };
  return true;
}

/**
 * Takes the current retention away from the backstop. True: it is ours to
 * end or take back. False: the backstop ended it (or is ending it right now).
 */
function claim(entry: Retained): boolean {
  clearImmediate(entry.timer);
  current = undefined;
  process.off('exit', finishAllRetained);
  const state = backstop?.state;
  // The backstop died: nobody else acts on it (an end it left half done is ours to finish, see endOrphan).
  if (state === undefined) return true;
  const was = Atomics.compareExchange(state, STATE, RETAINED, IDLE);
  if (was === RETAINED) return true;
  // The backstop is ending it: wait the few syscalls until it is done, so that
  // an exit right after this cannot cut its end short.
  if (was === ENDING) Atomics.wait(state, STATE, ENDING, ENDING_WAIT_MS);
  dropStreak(entry.paths.lockPath);
  return false;
}

function end(entry: Retained): void {
  try {
    entry.end();
  } catch {
    // As a release: what is left is reclaimable by proof.
  }
}

/** Ends a retained release of this lock now, if there is one. */
export function finishRetained(lockPath: string): void {
  const entry = current;
  if (entry === undefined || entry.paths.lockPath !== lockPath) return;
  if (claim(entry)) end(entry);
}

/** Ends any retained release (at exit). */
export function finishAllRetained(): void {
  const entry = current;
  if (entry !== undefined && claim(entry)) end(entry);
}

/**
 * Takes a retained release of this lock back for a request of `type` with
 * `ttl`: the record to hold it under and when its lease was renewed. A
 * request that differs (shared, another TTL), a TTL lease past half its
 * time, or a record that is no longer ours ends the retention instead, and
 * the request contends as usual.
 */
export function takeBack(paths: LockPaths, type: LockType, ttl: number | null): { record: LockRecord; renewedAt: number } | undefined {
  const entry = current;
  if (entry === undefined || entry.paths.lockPath !== paths.lockPath) return undefined;
  if (!claim(entry)) return undefined;
  const renewedAt = performance.now();
  if (type !== 'exclusive' || ttl !== entry.ttl || (ttl !== null && renewedAt - entry.renewedAt > ttl / 2)) {
    end(entry);
    return undefined;
  }
  const mine = privateName(paths, entry.record.ownerId);
  try {
    if (ttl !== null) {
      const now = new Date();
      utimesSync(mine, now, now);
    }
    // Two links while held: our private name and R.lock. Fewer: removed by force meanwhile.
    if (statSync(mine).nlink >= 2) return { record: entry.record, renewedAt };
  } catch {
    // gone: ended by someone else
  }
  end(entry);
  return undefined;
}
