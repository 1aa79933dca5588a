// Structured logs: one JSON object per line, one file per daemon process
// (logs/daemon-<pid>.log in the state directory); --foreground copies each
// line to stdout too. Every line is redacted on the way out (redact.ts).
//
// A file rotates by size, as logrotate's `size` + `rotate N` would, but from
// inside: past maxBytes it is renamed to .1 (an older .1 to .2, and so on up
// to `keep`, the oldest dropped) and a new file is opened at the same path.
// Lines still queued for the old stream land in the renamed file, so order
// holds within each file and across them. Files of processes long gone are
// pruned at start (pruneOldLogs), so the directory stays bounded too.
import { createWriteStream, fstatSync, openSync, readdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { redact, redactText } from './redact.ts';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A line as `info` would write it (redacted, stamped now), for a caller that writes many at once. */
  format(message: string, fields?: Record<string, unknown>): string;
  /** Lines made by `format`, written together: one write to the file for the lot. */
  append(lines: string): void;
  close(): Promise<void>;
}

/** A log file is rotated once it would pass this size. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated files kept per process (daemon-<pid>.log.1 .. .N), besides the live one. */
export const LOG_FILES_KEPT = 3;
/** Processes whose logs are kept (the newest by modification time); older ones are removed at start. */
export const LOG_PROCESSES_KEPT = 10;

/** A daemon's log file and its rotated copies: daemon-<pid>.log, daemon-<pid>.log.<n>. */
export const LOG_FILE = /^daemon-(\d+)\.log(?:\.(\d+))?$/;

export interface LoggerOptions {
  file: string | null;
  stdout: boolean;
  maxBytes?: number;
  keep?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  const { file } = options;
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  const keep = options.keep ?? LOG_FILES_KEPT;
  let stream: WriteStream | null = null;
  let size = 0;
  const open = (): void => {
    if (file === null) return;
    try {
      // Opened now, not when the stream gets round to it: a rotation in the same tick must find the file to rename.
      const fd = openSync(file, 'a', 0o600);
      size = fstatSync(fd).size;
      stream = createWriteStream(file, { fd });
    } catch {
      stream = null; // no log directory: lines still go to stdout when asked
      return;
    }
    stream.on('error', () => {
      // a full disk must not take the daemon down with it
    });
  };
  const rotate = (): void => {
    if (file === null || stream === null) return;
    stream.end();
    try {
      rmSync(`${file}.${keep}`, { force: true });
      for (let n = keep - 1; n >= 1; n--) renameQuietly(`${file}.${n}`, `${file}.${n + 1}`);
      if (keep > 0) renameSync(file, `${file}.1`);
      else rmSync(file, { force: true });
    } catch {
      // a rename that failed leaves the file growing; logging goes on
    }
    open();
  };
  open();
  const format = (level: string, message: string, fields: Record<string, unknown> = {}): string =>
    `${JSON.stringify({ at: new Date().toISOString(), level, pid: process.pid, message: redactText(message), ...(redact(fields) as Record<string, unknown>) })}\n`;
  const append = (lines: string): void => {
    if (lines === '') return;
    if (stream !== null) {
      const bytes = Buffer.byteLength(lines);
      if (size > 0 && size + bytes > maxBytes) rotate();
      size += bytes;
      (stream as WriteStream).write(lines);
    }
    if (options.stdout) process.stdout.write(lines);
  };
  return {
    info: (m, f) => append(format('info', m, f)),
    warn: (m, f) => append(format('warn', m, f)),
    error: (m, f) => append(format('error', m, f)),
    format: (m, f) => format('info', m, f),
    append,
    close: () => new Promise((resolve) => (stream === null ? resolve() : stream.end(() => resolve()))),
  };
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    // not there: nothing to shift
  }
}

/** Removes the log files of all but the newest `processes` processes (by their newest file's mtime); `current` is always kept. */
export function pruneOldLogs(dir: string, current: number, processes = LOG_PROCESSES_KEPT): void {
  const byPid = new Map<number, { newest: number; files: string[] }>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = LOG_FILE.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    let mtime = 0;
    try {
      mtime = statSync(join(dir, name)).mtimeMs;
    } catch {
      continue;
    }
    const entry = byPid.get(pid) ?? { newest: 0, files: [] };
    entry.newest = Math.max(entry.newest, mtime);
    entry.files.push(name);
    byPid.set(pid, entry);
  }
  const others = [...byPid].filter(([pid]) => pid !== current).sort((a, b) => b[1].newest - a[1].newest);
  for (const [, { files }] of others.slice(Math.max(0, processes - 1))) for (const name of files) rmSync(join(dir, name), { force: true });
}
