// baton events: the durable event log, listed or followed.
import type { BatonEvent, Coordinator, EventQuery } from '../coordinator.ts';
import { DEFAULT_LIST_LIMIT } from '../limits.ts';
import { ExitCode, integer, parse, positionalArgs, type Command } from './command.ts';
import { connectOptions, connectToRead, printHelp, withReader, type ConnectChoice } from './connect.ts';
import { waitingNote } from './waiting.ts';

const usage = 'baton events [--from <seq>] [--type <prefix>]... [--follow] [--db <path>] [--json]';

/** One line: seq, ISO time, type, key, actor, data as JSON. */
function line(e: BatonEvent): string {
  return `${String(e.seq).padStart(6)}  ${new Date(e.at).toISOString()}  ${e.type.padEnd(18)}  ${(e.key ?? '-').padEnd(12)}  ${(e.actor ?? '-').padEnd(12)}  ${JSON.stringify(e.data)}\n`;
}

/** `task` means `task` and `task.*`; `lease.acquired` only itself (and `lease.acquired.*`); a trailing `*` or `.` is a plain prefix. */
export function typePatterns(types: string[] | undefined): string[] | undefined {
  if (types === undefined || types.length === 0) return undefined;
  return types.flatMap((t) => (t.endsWith('*') || t.endsWith('.') ? [t] : [t, `${t}.`]));
}

interface Stop {
  /** Resolves on SIGINT, SIGTERM, or when our output's reader went away. */
  stopped: Promise<void>;
  isStopped(): boolean;
  dispose(): void;
}

/** Following lasts until a signal; meanwhile this keeps the process alive (a subscription's timers do not). */
function untilStopped(): Stop {
  let stopped = false;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = (): void => {
    stopped = true;
    resolve();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('error', stop);
  return {
    stopped: promise,
    isStopped: () => stopped,
    dispose() {
      clearInterval(keepAlive);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', stop);
    },
  };
}

/** How often --follow looks for the project's state when there is none yet. */
const LOOK_FOR_STATE_MS = 250;

/**
 * The coordinator to follow. With no state yet (no daemon, no database), it
 * waits for the first command that writes to make some, creating nothing
 * itself; `appeared` says it came while we waited. Undefined: stopped first.
 */
async function openToFollow(choice: ConnectChoice, stop: Stop): Promise<{ coordinator: Coordinator; appeared: boolean } | undefined> {
  const first = await connectToRead(choice, { empty: false });
  if (first !== undefined) return { coordinator: first.coordinator, appeared: false };
  const note = waitingNote();
  note.update('the first event (no state in this project yet)');
  try {
    while (!stop.isStopped()) {
      await Promise.race([stop.stopped, new Promise((resolve) => setTimeout(resolve, LOOK_FOR_STATE_MS))]);
      if (stop.isStopped()) break;
      const found = await connectToRead(choice, { empty: false });
      if (found !== undefined) return { coordinator: found.coordinator, appeared: true };
    }
    return undefined;
  } finally {
    note.done();
  }
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'list or follow the event log',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, from: { type: 'string' }, type: { type: 'string', multiple: true }, follow: { type: 'boolean', short: 'f' } }, usage);
    if (values.help) {
      return printHelp(
        usage,
        `Prints the events, one a line: seq, time, type, key, actor, data (--json: one JSON object a line).

  --from <seq>      start at this sequence number (default: the oldest kept)
  --type <prefix>   only these types; repeatable. 'task' matches task.*, 'lease.acquired' only that
                    type; a trailing * matches any prefix ('rate*')
  --follow, -f      after the past events (with --from; without it, only new ones), print events as they
                    happen until SIGINT or SIGTERM. With no state yet, wait for the first command that
                    writes (creating nothing meanwhile) and print from its first event
`,
      );
    }
    positionalArgs(positionals, [], usage);
    const from = integer('--from', values.from, { min: 0 });
    const types = typePatterns(values.type);
    const after = from === undefined ? undefined : Math.max(0, from - 1);
    let readerGone = false;
    const print = (e: BatonEvent): void => {
      if (!readerGone) process.stdout.write(values.json ? `${JSON.stringify(e)}\n` : line(e));
    };
    // EPIPE and the like: whoever read our output (e.g. `| head`) went away; stop quietly.
    const onOutputError = (): void => {
      readerGone = true;
    };
    process.stdout.on('error', onOutputError);
    if (!values.follow) {
      return withReader(values, async (c) => {
        const query: EventQuery = { after: after ?? 0, limit: DEFAULT_LIST_LIMIT, ...(types === undefined ? {} : { types }) };
        while (!readerGone) {
          const batch = await c.events(query);
          for (const e of batch) print(e);
          if (batch.length < DEFAULT_LIST_LIMIT) break;
          query.after = batch.at(-1)!.seq;
        }
        return ExitCode.ok;
      });
    }
    const stop = untilStopped();
    try {
      const opened = await openToFollow(values, stop);
      if (opened === undefined) return ExitCode.ok;
      try {
        // State that appeared while we waited is all new: follow it from its first event.
        const start = after ?? (opened.appeared ? 0 : undefined);
        const subscription = opened.coordinator.subscribe(print, { ...(start === undefined ? {} : { after: start }), ...(types === undefined ? {} : { types }) });
        await stop.stopped;
        subscription.close();
      } finally {
        await opened.coordinator.close();
      }
      return ExitCode.ok;
    } finally {
      stop.dispose();
    }
  },
};
