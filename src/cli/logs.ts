// baton logs: the daemon's log files (every process's, rotated ones too), read
// straight from <state dir>/logs so they can be read when no daemon answers,
// merged in time order. --request <id> picks one request's lines (the id the
// daemon echoes in x-request-id); --follow keeps printing new lines, through a
// rotation (the rest of the renamed file first) and new daemons' files.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { statePaths } from '../project/state-dir.ts';
import { MAX_REQUEST_ID_LENGTH } from '../limits.ts';
import { LOG_FILE } from '../server/log.ts';
import { isPlainRequestId } from '../server/request-id.ts';
import { ExitCode, integer, parse, positionalArgs, UsageError, type Command } from './command.ts';
import { projectLocation } from './state-dir.ts';

const usage = 'baton logs [--request <id>] [--level warn|error] [-n <lines>] [--follow] [--state-dir <dir>] [--json]';
const help = `Prints the daemon's log lines, oldest first, from every daemon process of this project (their
rotated files too): time, level, pid, message, then the other fields (--json: each line as written).

  --request <id>      only the lines of this request (the x-request-id the daemon answered with)
  --level <level>     only lines at this level or above: info, warn, error
  -n, --lines <n>     only the last n lines (default 200; 0: all)
  --follow, -f        then print new lines as they are written, until SIGINT or SIGTERM
  --state-dir <dir>   the project's state directory (default: as every command finds it)
  --json              print the lines as the daemon wrote them (one JSON object a line)
`;

const LEVELS = ['info', 'warn', 'error'] as const;
const DEFAULT_LINES = 200;
const FOLLOW_POLL_MS = 250;

interface LogLine {
  text: string;
  /** The line parsed. */
  fields: Record<string, unknown>;
  at: string;
  level: string;
  requestId: unknown;
}

function parseLine(text: string): LogLine | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value === null || typeof value !== 'object' || typeof value.at !== 'string') return undefined;
    return { text, fields: value, at: value.at, level: typeof value.level === 'string' ? value.level : 'info', requestId: value.requestId };
  } catch {
    return undefined; // a line cut by a crash mid-write
  }
}

function human(line: LogLine): string {
  const { at, level, pid, message, ...rest } = line.fields;
  const extra = Object.keys(rest).length === 0 ? '' : `  ${JSON.stringify(rest)}`;
  return `${String(at)}  ${String(level).padEnd(5)}  ${String(pid).padStart(7)}  ${String(message)}${extra}\n`;
}

/** Log file names, oldest rotation first within a process (.3, .2, .1, then the live file). */
function logFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const rank = (name: string): number => Number(LOG_FILE.exec(name)?.[2] ?? 0);
  return readdirSync(dir).filter((name) => LOG_FILE.test(name)).sort((a, b) => rank(b) - rank(a));
}

export const logsCommand: Command = {
  name: 'logs',
  summary: "read the daemon's log files",
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { request: { type: 'string' }, level: { type: 'string' }, lines: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } },
      usage,
    );
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n\n${help}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], usage);
    if (values.request !== undefined && !isPlainRequestId(values.request)) {
      const shown = values.request.length > 40 ? `${values.request.slice(0, 40)}... (${values.request.length} characters)` : values.request;
      throw new UsageError(`--request must name a request id (1 to ${MAX_REQUEST_ID_LENGTH} of A-Z a-z 0-9 . _ : -, as the daemon echoes them), got ${JSON.stringify(shown)}`);
    }
    const level = values.level ?? 'info';
    const minLevel = LEVELS.indexOf(level as (typeof LEVELS)[number]);
    if (minLevel < 0) throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    const last = integer('--lines', values.lines, { min: 0 }) ?? (values.request === undefined ? DEFAULT_LINES : 0);
    const dir = statePaths(projectLocation(values['state-dir']).stateDir).logs;
    const wanted = (line: LogLine): boolean =>
      (values.request === undefined || line.requestId === values.request) && LEVELS.indexOf(line.level as (typeof LEVELS)[number]) >= minLevel;
    let readerGone = false;
    process.stdout.on('error', () => (readerGone = true)); // `| head` went away: stop quietly
    const print = (line: LogLine): void => {
      if (!readerGone) process.stdout.write(values.json ? `${line.text}\n` : human(line));
    };

    const tail = new LogTail(dir);
    const past = tail.poll().filter(wanted).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const line of last === 0 ? past : past.slice(-last)) print(line);
    if (!values.follow) return ExitCode.ok;

    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (const line of tail.poll().filter(wanted)) print(line);
        if (readerGone) stop();
      }, FOLLOW_POLL_MS);
      const stop = (): void => {
        clearInterval(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return ExitCode.ok;
  },
};

/**
 * Reads what is new in a directory of log files on each poll. A file is known
 * by its inode: after a rotation the live name holds a new file, and the rest
 * of the old one (now <name>.1) is read from where this left off.
 */
class LogTail {
  #dir: string;
  /** By inode: how far each file has been read, and what is left of a cut last line. */
  #read = new Map<number, { offset: number; partial: string }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  poll(): LogLine[] {
    const lines: LogLine[] = [];
    for (const { path, ino } of this.#files()) {
      // A file not seen before may be the live name's new file after a rotation, whose writer has now finished
      // with the old one: the rest of the old one (under its new name) comes first, else lines come out of order.
      if (!this.#read.has(ino)) for (const known of this.#files()) if (this.#read.has(known.ino)) this.#take(known.path, known.ino, lines);
      this.#take(path, ino, lines);
    }
    return lines;
  }

  /** The log files now, oldest first, with their inodes (one rotated away meanwhile is left for the next poll). */
  #files(): Array<{ path: string; ino: number }> {
    const out: Array<{ path: string; ino: number }> = [];
    for (const name of logFiles(this.#dir)) {
      const path = join(this.#dir, name);
      try {
        out.push({ path, ino: statSync(path).ino });
      } catch {
        // rotated away between the listing and now: the next poll finds it under its new name
      }
    }
    return out;
  }

  /** Appends the whole lines of `path` that are new since the last read of inode `ino` (if it is still that file). */
  #take(path: string, ino: number, lines: LogLine[]): void {
    let size: number;
    try {
      const stat = statSync(path);
      if (stat.ino !== ino) return;
      size = stat.size;
    } catch {
      return;
    }
    const seen = this.#read.get(ino) ?? { offset: 0, partial: '' };
    if (size < seen.offset) Object.assign(seen, { offset: 0, partial: '' }); // truncated: start over
    if (size > seen.offset) {
      const chunk = readFrom(path, seen.offset, ino);
      if (chunk === undefined) return;
      seen.offset += chunk.length;
      const text = seen.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      seen.partial = parts.pop() ?? '';
      for (const part of parts) {
        const line = parseLine(part);
        if (line !== undefined) lines.push(line);
      }
    }
    this.#read.set(ino, seen);
  }
}

/** The bytes of `path` from `offset` on, if it is still the file with inode `ino`. */
function readFrom(path: string, offset: number, ino: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.ino !== ino) return undefined;
    if (offset === 0 && stat.size < 1 << 20) return readFileSync(fd);
    const buffer = Buffer.alloc(stat.size - offset);
    let done = 0;
    while (done < buffer.length) {
      const n = readSync(fd, buffer, done, buffer.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
