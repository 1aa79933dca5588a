// The stores waiting for a commit to one SQLite file, in the order they got
// in line, so a commit can wake the one that has waited longest: the file
// tier's wait list (docs/file-locks.md, Waiting and waking) for a database.
// Each waiting store has an empty file of its own in `<db>-waiting/`, named
// by when it got in line, and watches it (one inotify watch on Linux); after
// each commit the committer touches (utimes) the oldest entry but its own.
// With nobody waiting (for a second) the directory is absent and a commit
// pays one stat. Entries carry their process's pid and start time, so one
// left by a process killed while it waited is removed by the first committer
// that meets it a second after it was made; until then a commit may wake
// nobody, and waiters poll. Wakes are hints: the woken waiter reads the
// change counter, and every waiter still polls.
import { closeSync, openSync, readdirSync, statSync, unlinkSync, utimesSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors.ts';
import { addToTransientDir, ignore, removeIfEmpty } from '../../files/lock/disk.ts';
import { isProcessAlive, selfProcess } from '../../files/process-info.ts';

/** `<µs since boot, base 36, 11 digits>.<pid>.<start time or x>.<n>`: sorting the names sorts the waiters by arrival. */
const ENTRY = /^([0-9a-z]{11})\.(\d+)\.(\d+|x)\.\d+$/;
/** An entry younger than this is taken to be alive; an older one is checked (then trusted for as long again). */
const CHECK_AFTER_MS = 1000;
/**
 * The directory goes once it has been empty this long: making it again and
 * removing it cost 1.6 ms here against 0.13 ms for an entry in one that
 * stays (with waiters coming and going on many keys, it was made and removed
 * at almost every wait).
 */
const EMPTY_LINGER_MS = 1000;

/** The monotonic clock in µs: one clock for every process on the machine (CLOCK_MONOTONIC), so arrivals compare. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * A listing is used again while the directory's mtime and ctime are those it
 * was read under (entries come and go; touches change neither), for this
 * long at most: a commit then costs a stat and a touch, not a listing.
 * Timestamps are coarse (a clock tick), so an entry made in the tick of the
 * listing may be missed for that long: it is not yet touched, and polls.
 */
const LISTING_MS = 100;

let entries = 0;
const listings = new Map<string, { key: string; at: number; names: string[] }>();
/** Entries checked alive, and when (µs): checked once a second at most, by each committer. */
const checked = new Map<string, number>();

/** The wait list of the database at `dbPath`. */
export function waitListDir(dbPath: string): string {
  return `${dbPath}-waiting`;
}

/**
 * This store's place on the wait list while it has a waiter. join() makes
 * the entry and watches it; onTouch runs when a commit touches it, and
 * onGone if it is removed under us (judged dead: then we are woken no more).
 */
export class WaitListEntry {
  readonly #dir: string;
  #name: string | undefined;
  #watcher: FSWatcher | undefined;

  constructor(dbPath: string) {
    this.#dir = waitListDir(dbPath);
  }

  /** Our entry's name while we are on the list. */
  get name(): string | undefined {
    return this.#name;
  }

  /**
   * Joins the list (if not on it) as of `since` (monotonicUs()): the time of
   * the commit that put our waiter in its line, so that the list is in the
   * line's order. Joining ahead of others (we got in line before them but
   * here after them), it touches the one behind it, which may have been
   * first and polling slowly. False if that failed (polling only).
   */
  join(since: number, onTouch: () => void, onGone: () => void): boolean {
    if (this.#name !== undefined) return true;
    const self = selfProcess();
    const name = `${since.toString(36).padStart(11, '0')}.${self.pid}.${self.startTime ?? 'x'}.${entries++}`;
    const path = join(this.#dir, name);
    try {
      if (!addToTransientDir(this.#dir, () => closeSync(openSync(path, 'wx', 0o600)), 'wait for a commit')) return false;
      this.#name = name;
      this.#watcher = watch(path, { persistent: false }, (event) => {
        if (event === 'rename') {
          this.#unwatch();
          onGone();
        } else onTouch();
      });
      this.#watcher.on('error', () => {
        this.#unwatch();
        onGone();
      });
    } catch {
      this.leave();
      return false;
    }
    try {
      const behind = readdirSync(this.#dir).sort().find((other) => other > name);
      if (behind !== undefined) touch(join(this.#dir, behind));
    } catch {
      // only a hint
    }
    return true;
  }

  /** Whether no entry on the list is older than ours (dead ones count until a committer removes them). */
  first(): boolean {
    const name = this.#name;
    if (name === undefined) return false;
    try {
      return !readdirSync(this.#dir).some((other) => other < name && ENTRY.test(other));
    } catch {
      return false;
    }
  }

  /**
   * Leaves the list. The directory, if that was its last entry, goes with
   * `andDirectory`, or at a commit once it has been empty a while.
   */
  leave(andDirectory = false): void {
    const name = this.#name;
    this.#unwatch();
    this.#name = undefined;
    try {
      if (name !== undefined) ignore(['ENOENT'], () => unlinkSync(join(this.#dir, name)));
      if (andDirectory) removeIfEmpty(this.#dir);
    } catch {
      // a committer drops what is left once its process is gone
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

/**
 * After a commit: wakes the store that has waited longest for one, other
 * than `self` (the committer's own entry: its own waiters it wakes itself).
 * Entries whose process is gone are removed on the way.
 */
export function wakeFirst(dbPath: string, self: string | undefined): void {
  const dir = waitListDir(dbPath);
  try {
    const stat = statSync(dir, { bigint: true, throwIfNoEntry: false }); // nobody waiting: one stat, no exception
    if (stat === undefined) return;
    const key = `${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`;
    let names = listing(dir, key);
    let fresh = false;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === self || !alive(dir, name)) continue;
      try {
        utimesSync(join(dir, name), new Date(), new Date());
        return;
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') return;
        // It left: the listing may be older than the directory's timestamps
        // tell (they can be coarse), and miss whoever joined since. Read it again, once.
        listings.delete(dir);
        if (fresh) continue;
        fresh = true;
        names = listing(dir, key);
        i = -1;
      }
    }
    // No one waits (those left were gone): the list goes once it has been empty a while.
    if (names.length === 0 && Date.now() - Number(stat.mtimeMs) > EMPTY_LINGER_MS && removeIfEmpty(dir)) listings.delete(dir);
  } catch {
    // only a hint: waiters poll as well
  }
}

/** The directory's entries, oldest first: read again when it changed (`key`: its inode and times), or LISTING_MS after it was. */
function listing(dir: string, key: string): string[] {
  const now = performance.now();
  const seen = listings.get(dir);
  if (seen !== undefined && seen.key === key && now - seen.at < LISTING_MS) return seen.names;
  const names = readdirSync(dir).sort();
  if (listings.size > 16) listings.clear();
  listings.set(dir, { key, at: now, names });
  return names;
}

/** Wakes an entry's watcher, if the entry is still there. */
function touch(path: string): void {
  const now = new Date();
  ignore(['ENOENT'], () => utimesSync(path, now, now));
}

/** Whether an entry's process may be alive; an entry whose process is gone is removed. */
function alive(dir: string, name: string): boolean {
  const parts = ENTRY.exec(name);
  if (parts === null) return false; // not ours: never woken, never removed
  const now = monotonicUs();
  const since = Math.max(Number.parseInt(parts[1]!, 36), checked.get(name) ?? 0);
  // An entry from "the future" was made before a reboot: check it.
  if (now >= since && now - since < CHECK_AFTER_MS * 1000) return true;
  const startTime = parts[3] === 'x' ? null : Number(parts[3]);
  if (isProcessAlive({ pid: Number(parts[2]), startTime })) {
    if (checked.size > 1000) checked.clear();
    checked.set(name, now);
    return true;
  }
  checked.delete(name);
  ignore(['ENOENT'], () => unlinkSync(join(dir, name)));
  return false;
}
