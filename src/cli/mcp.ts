// baton mcp: an MCP server on stdin/stdout for one coding agent, through the
// project's daemon (started if none runs). The agent's session is bound to
// this process's connection to the daemon: when the agent exits, stdin ends,
// this process exits, and the daemon releases the agent's reservations and
// requeues its claims at once (also after a kill -9 of this process).
import { resolve } from 'node:path';
import { openCoordinator } from '../client/open.ts';
import { RemoteCoordinator } from '../client/remote.ts';
import { BatonError } from '../errors.ts';
import { readDaemonRecord } from '../project/daemon-record.ts';
import { locateProject } from '../project/state-dir.ts';
import { packageVersion } from '../project/version.ts';
import { ExitCode, parse, positionalArgs, UsageError, type Command } from './command.ts';
import { ensureStateDir, stateDirOption } from './state-dir.ts';

const usage = 'baton mcp [--name <agent>] [--project <dir>] [--state-dir <dir>]';

const help = `Serves the Model Context Protocol on stdin and stdout for one coding agent (Claude Code, Codex,
Gemini CLI, Cursor, ...): reserve_paths, write_file and the other tools, through the project's
daemon, which is started when none runs. The agent is registered when it connects; when it exits
(stdin closes) its reservations are released and its claimed tasks go back to the queue.
Setup for each agent: docs/agents.md.

  --name <agent>      the agent's name in reservations and events (default: the MCP client's name and this pid)
  --project <dir>     the project (default: the working directory)
  --state-dir <dir>   the project's state directory (default: $BATON_HOME, else <git common dir>/baton, else ./.baton)

$BATON_URL may name a daemon (baton+unix://<socket>, or http://host:port with $BATON_TOKEN). The
embedded store is refused ($BATON_URL=sqlite:..., or $BATON_NO_DAEMON with no daemon running): it is
the daemon that enforces reservations on writes and ends the session of an agent that is gone.
`;

/** Seconds the process may take to end its session and close before it exits anyway. */
const EXIT_BACKSTOP_MS = 2_000;

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'serve MCP on stdio for a coding agent, through the daemon',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { name: { type: 'string' }, project: { type: 'string' }, 'state-dir': { type: 'string' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n\n${help}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], usage);
    if (values.name !== undefined && (values.name.trim() === '' || values.name.length > 200)) throw new UsageError(`--name must be 1 to 200 characters, got ${JSON.stringify(values.name)}`);
    if (values.project === '') throw new UsageError('--project must name a directory, got ""');
    const cwd = resolve(values.project ?? process.cwd());
    const location = locateProject(cwd);
    const { path: stateDir, inWorkTree } = stateDirOption(values['state-dir'], cwd);
    ensureStateDir(stateDir, inWorkTree);

    // Loaded here, not at the top: every other baton command would pay for the MCP SDK's import.
    const [{ createBatonServer, remoteBackend, serveStdio }, { AgentState }] = await Promise.all([import('../mcp/server.ts'), import('../mcp/tools/agent.ts')]);
    const explicitUrl = process.env.BATON_URL || undefined;
    // The project's daemon, started when none runs ($BATON_NO_DAEMON forbids that: then one must be running).
    const c = await openCoordinator({ stateDir, cwd, autoStart: !process.env.BATON_NO_DAEMON });
    if (!(c instanceof RemoteCoordinator)) {
      await c.close();
      const why = explicitUrl !== undefined
        ? `$BATON_URL=${explicitUrl} names the embedded store; unset it, or set it to baton+unix://<socket> or http://host:port`
        : `no daemon runs for ${stateDir} and $BATON_NO_DAEMON forbids starting one; unset it, or start one with 'baton serve --detach'`;
      throw new BatonError('UNAVAILABLE', `baton mcp needs the project's daemon (it enforces reservations and ends a gone agent's session), but ${why}`);
    }
    // Absolute paths from the agent are accepted under the worktree its file operations act in (known for this project's own daemon).
    const root = explicitUrl === undefined ? (c.worktree ?? readDaemonRecord(stateDir)?.root ?? location.root) : null;
    const agent = new AgentState(c, { kind: 'mcp', labels: { transport: 'stdio' } }, values.name);
    const server = createBatonServer({
      backend: remoteBackend(c, root),
      agent,
      version: packageVersion(),
      defaultName: (client) => `${(client?.name ?? 'mcp').slice(0, 100)}-${process.pid}`,
    });
    const reason = await serveStdio(server);
    const backstop = setTimeout(() => process.exit(ExitCode.ok), EXIT_BACKSTOP_MS);
    backstop.unref();
    // Ending the session explicitly is the fast path; if it fails, closing the client drops its stream and the daemon ends it.
    await agent.end(`the MCP client went away (${reason})`).catch(() => undefined);
    await c.close();
    return ExitCode.ok;
  },
};
