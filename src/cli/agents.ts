// baton agents: the sessions of the agents and processes using the coordinator,
// and `agents end <id>` for one that is hung (its leases released, its claims
// requeued at once, rather than after its heartbeat lapses).
import { ExitCode, parse, positionalArgs, UsageError, type Command } from './command.ts';
import { localActor } from './actor.ts';
import { ago, duration, printJson, table } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';

const usage = 'baton agents [--all] [--db <path>] [--json] | baton agents end <session id> [--reason <text>]';

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'list the live sessions of agents and processes',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, all: { type: 'boolean' }, reason: { type: 'string' } }, usage);
    if (values.help) {
      return printHelp(
        usage,
        `Lists the sessions: id, name, kind, host, pid, age, and when each last sent a heartbeat.
Sessions whose heartbeat lapsed or whose process (on this host) is gone are ended first.

  --all             include ended sessions, with why they ended
  end <id>          end that session now: its leases are released and its claimed tasks requeued
                    (for an agent that is hung; its process is not signalled)
  --reason <text>   with end: why, shown by 'baton agents --all' (default: ended by hand)
`,
      );
    }
    if (positionals[0] === 'end') {
      const [id] = positionalArgs(positionals.slice(1), ['session id'], usage);
      if (values.all) throw new UsageError('--all lists sessions; it does not go with end');
      return withCoordinator(values, async (c) => {
        await c.endSession(id!, { reason: values.reason ?? 'ended by hand (baton agents end)', by: localActor() });
        if (values.json) printJson({ ended: id });
        else process.stdout.write(`ended session ${id}\n`);
        return ExitCode.ok;
      });
    }
    if (values.reason !== undefined) throw new UsageError('--reason goes with end: baton agents end <session id> --reason <text>');
    positionalArgs(positionals, [], usage);
    return withReader(values, async (c) => {
      const sessions = await c.listSessions({ includeEnded: values.all === true });
      if (values.json) {
        printJson(sessions);
        return ExitCode.ok;
      }
      if (sessions.length === 0) {
        process.stdout.write(values.all ? 'no sessions\n' : 'no live sessions\n');
        return ExitCode.ok;
      }
      const now = Date.now();
      const header = ['ID', 'NAME', 'KIND', 'HOST', 'PID', 'AGE', 'HEARTBEAT'];
      const rows = sessions.map((s) => {
        const row: Array<string | number | null> = [s.id, s.name, s.kind, s.host, s.pid, duration(now - s.startedAt), `${ago(s.heartbeatAt, now)} (ttl ${duration(s.ttlMs)})`];
        if (values.all) row.push(s.endedAt === null ? 'live' : `ended ${ago(s.endedAt, now)}: ${s.endReason ?? 'ended'}`);
        return row;
      });
      process.stdout.write(table(values.all ? [...header, 'STATE'] : header, rows));
      return ExitCode.ok;
    });
  },
};
