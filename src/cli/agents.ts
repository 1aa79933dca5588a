// baton agents: the sessions of the agents and processes using the coordinator.
import { ExitCode, parse, positionalArgs, type Command } from './command.ts';
import { ago, duration, printJson, table } from './output.ts';
import { connectOptions, printHelp, withReader } from './connect.ts';

const usage = 'baton agents [--all] [--db <path>] [--json]';

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'list the live sessions of agents and processes',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, all: { type: 'boolean' } }, usage);
    if (values.help) {
      return printHelp(
        usage,
        `Lists the sessions: id, name, kind, host, pid, age, and when each last sent a heartbeat.
Sessions whose heartbeat lapsed or whose process (on this host) is gone are ended first.

  --all   include ended sessions, with why they ended
`,
      );
    }
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
