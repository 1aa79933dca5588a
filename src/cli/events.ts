// baton events: the durable event log, listed or followed.
import type { BatonEvent, EventQuery } from '../coordinator.ts';
import { DEFAULT_LIST_LIMIT } from '../limits.ts';
import { ExitCode, integer, parse, positionalArgs, type Command } from './command.ts';
import { connectOptions, printHelp, withCoordinator } from './connect.ts';

const usage = 'baton events [--from <seq>] [--type <prefix>]... [--follow] [--db <path>] [--json]';

/** One line: seq, ISO time, type, key, actor, data as JSON. */
function line(e: BatonEvent): string {
  return `${String(e.seq).padStart(6)}  ${new Date(e.at).toISOString()}  ${e.type.padEnd(18)}  ${(e.key ?? '-').padEnd(12)}  ${(e.actor ?? '-').padEnd(12)}  ${JSON.stringify(e.data)}\n`;
}

/** `task` means `task` and `task.*`; `lease.acquired` only itself (and `lease.acquired.*`); a trailing `*` or `.` is a plain prefix. */
function typePatterns(types: string[] | undefined): string[] | undefined {
  if (types === undefined || types.length === 0) return undefined;
  return types.flatMap((t) => (t.endsWith('*') || t.endsWith('.') ? [t] : [t, `${t}.`]));
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
                    happen until SIGINT or SIGTERM
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
    return withCoordinator(values, async (c) => {
      if (!values.follow) {
        const query: EventQuery = { after: after ?? 0, limit: DEFAULT_LIST_LIMIT, ...(types === undefined ? {} : { types }) };
        while (!readerGone) {
          const batch = await c.events(query);
          for (const e of batch) print(e);
          if (batch.length < DEFAULT_LIST_LIMIT) break;
          query.after = batch.at(-1)!.seq;
        }
        return ExitCode.ok;
      }
      await new Promise<void>((resolve) => {
        const subscription = c.subscribe(print, { ...(after === undefined ? {} : { after }), ...(types === undefined ? {} : { types }) });
        // The subscription's timers do not keep the process alive; this does, until a signal.
        const keepAlive = setInterval(() => {}, 1 << 30);
        const stop = (): void => {
          clearInterval(keepAlive);
          subscription.close();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        process.stdout.on('error', stop);
      });
      return ExitCode.ok;
    });
  },
};
