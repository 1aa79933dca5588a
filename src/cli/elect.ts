// baton elect <name> -- <command>: run a command as the leader of an election
// (src/election.ts), and baton leader <name> [--watch]: who leads it.
import { basename } from 'node:path';
import { campaign, leader, observe, type Leader } from '../election.ts';
import { DEFAULT_ELECTION_TTL_MS, ELECTION_STOP_GRACE_MS, MAX_NAME_LENGTH } from '../limits.ts';
import { runChild } from './child.ts';
import { ExitCode, UsageError, millis, parse, positionalArgs, reportError, warningLine, type Command } from './command.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { ago } from './output.ts';
import { userAtHost } from './owner.ts';

const electUsage = 'baton elect <name> [--value <json|text>] [--owner <name>] [--ttl <s>] [--timeout <s>] [--db <path>] -- <command> [args...]';
const leaderUsage = 'baton leader <name> [--watch] [--json]';

/** A --value: JSON when it reads as JSON, else the text itself. */
function valueOption(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * SIGTERM to SIGKILL when the leadership ends. The leadership ends this long
 * before the holder's deadline (campaign's graceMs), so the command is killed
 * by that deadline, still before the lease can lapse and a next leader start.
 */
export function stopGraceMs(ttlMs: number): number {
  return Math.min(ELECTION_STOP_GRACE_MS, Math.floor(ttlMs / 6));
}

export const electCommand: Command = {
  name: 'elect',
  summary: 'run a command as the one leader of an election (waits in line)',
  usage: electUsage,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split === -1 ? argv : argv.slice(0, split);
    const command = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals } = parse(own, { ...connectOptions, value: { type: 'string' }, owner: { type: 'string' }, ttl: { type: 'string' }, timeout: { type: 'string' } }, electUsage);
    if (values.help) {
      return printHelp(
        electUsage,
        `Waits in line for the leadership of <name> (the exclusive lease election:<name>), then runs <command> while it
leads and exits with its exit code. The command's environment has BATON_ELECTION (the name) and BATON_ELECTION_TERM
(the term: the lease's fencing token, to present with anything the leader writes). If the leadership is lost while
the command runs, the command is sent SIGTERM, then SIGKILL after a grace (min(5 s, TTL/6)), and baton exits 1: the
leadership is given up that grace before the lease could lapse, so the command is gone before a next leader is elected.
Everyone can see the leader with 'baton leader <name>'.

  --value <json|text>  what the leader tells everyone (JSON if it parses, else the text); default null
  --owner <name>       who leads, as others see it (default <user>@<host>:<pid> (baton elect <command>))
  --ttl <s>            the lease's TTL, renewed every third of it: a leader that dies is replaced within it
                       (default ${DEFAULT_ELECTION_TTL_MS / 1000})
  --timeout <s>        stop waiting in line after this long, exit 75 (default: wait until elected)
`,
      );
    }
    try {
      const [name] = positionalArgs(positionals, ['name'], electUsage) as [string];
      if (command.length === 0) throw new UsageError(`no command given after --\nusage: ${electUsage}`);
      const [file, ...args] = command as [string, ...string[]];
      const ttlMs = millis('--ttl', values.ttl, true) ?? DEFAULT_ELECTION_TTL_MS;
      const timeoutMs = millis('--timeout', values.timeout);
      const owner = values.owner ?? `${userAtHost()}:${process.pid} (baton elect ${basename(file)})`.slice(0, MAX_NAME_LENGTH);
      const graceMs = stopGraceMs(ttlMs);
      // No session: the daemon ends one when its stream drops, which this process would learn only later. The TTL
      // ends a dead leader's term, and the holder's deadline (less the grace) ends a cut-off one's first.
      return await withCoordinator(values, async (c) => {
        const lead = await campaign(c, name, { owner, value: valueOption(values.value), ttlMs, graceMs, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
        let child: number | undefined;
        let lost = false;
        let killer: NodeJS.Timeout | undefined;
        const signal = (sig: NodeJS.Signals): void => {
          try {
            if (child !== undefined) process.kill(child, sig);
          } catch {
            // it has exited already
          }
        };
        const onLost = (): void => {
          lost = true;
          process.stderr.write(warningLine(`${(lead.signal.reason as Error).message}; stopping ${JSON.stringify(file)} (SIGTERM, SIGKILL in ${graceMs} ms)`));
          signal('SIGTERM');
          killer = setTimeout(() => signal('SIGKILL'), graceMs);
        };
        lead.signal.addEventListener('abort', onLost, { once: true });
        const env = { BATON_ELECTION: name, BATON_ELECTION_TERM: String(lead.token) };
        Object.assign(process.env, env);
        try {
          const code = await runChild(file, args, JSON.stringify(file), (pid) => (child = pid));
          return lost ? ExitCode.failure : code;
        } finally {
          clearTimeout(killer);
          lead.signal.removeEventListener('abort', onLost);
          await lead.resign().catch(() => undefined);
        }
      });
    } catch (error) {
      return reportError(error, values.json === true);
    }
  },
};

function describe(name: string, l: Leader | null, now = Date.now()): string {
  if (l === null) return `${name}: no leader`;
  const value = l.value === undefined ? '(not yet proclaimed)' : JSON.stringify(l.value);
  return `${name}: ${l.owner} leads, term ${l.token}, elected ${ago(l.acquiredAt, now)}${l.expiresAt === null ? '' : `, lease until ${ago(l.expiresAt, now)}`}; value ${value}`;
}

export const leaderCommand: Command = {
  name: 'leader',
  summary: 'who leads an election now (--watch: and each change)',
  usage: leaderUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, watch: { type: 'boolean' } }, leaderUsage);
    if (values.help) {
      return printHelp(leaderUsage, "Prints the leader of <name> (owner, term, value), or that no one leads. --watch prints it, then a line at each\nchange (a new term, a new value, no leader) until interrupted; with --json, one JSON object per line.\n");
    }
    const [name] = positionalArgs(positionals, ['name'], leaderUsage) as [string];
    const print = (l: Leader | null): void => {
      process.stdout.write(values.json ? `${JSON.stringify(l === null ? { name, leader: null } : { ...l, value: l.value ?? null })}\n` : `${describe(name, l)}\n`);
    };
    return withReader(values, async (c, source) => {
      if (!values.watch) {
        print(source.kind === 'none' ? null : await leader(c, name));
        return ExitCode.ok;
      }
      if (source.kind === 'none') throw new UsageError(`there is no state at ${source.where} to watch yet: start the daemon ('baton serve --detach') or run a command that writes`);
      // The stream's socket does not hold the process open on its own.
      const keepAlive = setInterval(() => {}, 1 << 30);
      await new Promise<void>((resolve, reject) => {
        const watching = observe(c, name, print, { onError: reject });
        const stop = (): void => {
          clearInterval(keepAlive);
          watching.close();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return ExitCode.ok;
    });
  },
};
