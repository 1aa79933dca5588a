// The note the CLI shows while it waits (for a lease, a lock, the daemon):
// one line on stderr naming what it waits for and for how long, rewritten in
// place and cleared when the wait ends. Only on a terminal: pipes, files and
// CI get nothing, so scripts read exactly what they read before. Plain text
// (colour is output.ts's business); TERM=dumb gets nothing, as it cannot
// clear a line.
import type { DaemonWaitHook } from '../client/daemon-wait.ts';
import { duration } from './output.ts';

export interface WaitingNote {
  /** What is waited for, e.g. `"deploy", held by "agent-a" (exclusive on deploy)`. */
  update(text: string): void;
  /** The wait is over: the note goes (a later update shows it again). */
  done(): void;
}

/** A wait shorter than this shows nothing: no flicker for the common quick case. */
const GRACE_MS = 250;
/** How often the elapsed time is redrawn. */
const TICK_MS = 1000;
const CLEAR = '\r\x1b[2K';

interface Entry {
  text: string | undefined;
  since: number;
}

/** True when notes are drawn: stderr is a terminal that can clear a line. */
export function notesShown(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}

// One line on the terminal, however many waits are under way: the latest one is shown.
const active: Entry[] = [];
let drawn = false;
let timer: NodeJS.Timeout | undefined;

function draw(): void {
  const now = Date.now();
  const entry = active.findLast((e) => e.text !== undefined && now - e.since >= GRACE_MS);
  if (entry === undefined) {
    clear();
    return;
  }
  const line = `baton: waiting ${duration(now - entry.since)} for ${entry.text}`;
  // Cut to the terminal's width: a wrapped line could not be rewritten in place.
  const width = process.stderr.columns > 1 ? process.stderr.columns - 1 : 79;
  process.stderr.write(CLEAR + (line.length > width ? `${line.slice(0, width - 1)}…` : line));
  if (!drawn) process.once('exit', clear);
  drawn = true;
}

function clear(): void {
  if (!drawn) return;
  drawn = false;
  process.stderr.write(CLEAR);
  process.off('exit', clear);
}

function schedule(): void {
  if (active.length === 0) {
    clearInterval(timer);
    timer = undefined;
    clear();
    return;
  }
  // The first draw comes once the grace has passed, then every tick; the timer never keeps baton alive.
  if (timer === undefined) {
    timer = setInterval(draw, TICK_MS);
    timer.unref();
    setTimeout(draw, GRACE_MS).unref();
  }
}

/**
 * A note for one wait that began at `since` (ms since the epoch; default now).
 * Off a terminal it does nothing at all.
 */
export function waitingNote(since = Date.now()): WaitingNote {
  if (!notesShown()) return { update() {}, done() {} };
  let entry: Entry | undefined;
  return {
    update(text) {
      if (entry === undefined) {
        entry = { text, since };
        active.push(entry);
        schedule();
      }
      const changed = entry.text !== text;
      entry.text = text;
      if (changed && drawn) draw();
    },
    done() {
      if (entry === undefined) return;
      active.splice(active.indexOf(entry), 1);
      entry = undefined;
      if (active.length > 0) draw();
      schedule();
    },
  };
}

/** Runs `fn` with a note, and always clears it. */
export async function withWaitingNote<T>(fn: (note: WaitingNote) => Promise<T>, since = Date.now()): Promise<T> {
  const note = waitingNote(since);
  try {
    return await fn(note);
  } finally {
    note.done();
  }
}

/** The client's hook for its waits on the daemon (retries while it is down or restarting, its start), as a note. */
export function daemonWaitNote(): DaemonWaitHook {
  let note: WaitingNote | undefined;
  return (wait) => {
    if (wait === undefined) {
      note?.done();
      note = undefined;
      return;
    }
    note ??= waitingNote(wait.since);
    note.update(`the baton daemon at ${wait.target}: ${wait.reason}`);
  };
}
