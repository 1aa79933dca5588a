// baton project list|show|create|archive: the projects one daemon serves
// beside its default one, each a store of its own (docs/projects.md). Through
// the daemon only: it is what serves them. Making and archiving one needs an
// admin (an admin token, or this machine's user on the socket or with the key).
import { RemoteCoordinator } from '../client/remote.ts';
import type { Coordinator } from '../coordinator.ts';
import { PROJECT_NAME_RULE } from '../limits.ts';
import { checkProjectName } from '../project/project-name.ts';
import type { ProjectInfo } from '../protocol/project-operations.ts';
import { ExitCode, UsageError, parse, positionalArgs } from './command.ts';
import { connectOptions, printHelp, withCoordinator, type ConnectChoice } from './connect.ts';
import { group, type Action } from './group.ts';
import { fields, printJson, table, when } from './output.ts';

/** The daemon's client, or a usage error: the embedded store serves one project, its own. */
async function withDaemon<T>(choice: ConnectChoice, fn: (c: RemoteCoordinator) => Promise<T>): Promise<T> {
  return withCoordinator(choice, async (c: Coordinator) => {
    if (!(c instanceof RemoteCoordinator)) throw new UsageError("projects are served by the daemon: run 'baton project' without --no-daemon or --db");
    return fn(c);
  });
}

const stateOf = (p: ProjectInfo, now: number): string => (p.archivedAt === null ? 'active' : `archived ${when(p.archivedAt, now)}`);

/** The name argument, checked before anything is opened. */
function nameArg(positionals: string[], usage: string): string {
  const [name] = positionalArgs(positionals, ['name'], usage);
  return checkProjectName(name);
}

const listUsage = 'baton project list [--json]';
const list: Action = {
  name: 'list',
  summary: 'the projects the daemon serves: name, default, created, archived, store',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, listUsage);
    if (values.help) {
      return printHelp(
        listUsage,
        `Lists the projects, one a line: name, * for the daemon's default project (what a request naming none
reaches), when created, whether archived, and where its state is. A token scoped to projects sees those it reaches.
--json prints {"projects":[{"name","home","derivedFrom","createdAt","archivedAt","store"}]}.
`,
      );
    }
    positionalArgs(positionals, [], listUsage);
    return withDaemon(values, async (c) => {
      const answer = await c.daemonOperation('projectList', {});
      if (values.json) {
        printJson(answer);
        return ExitCode.ok;
      }
      const now = Date.now();
      const rows = answer.projects.map((p) => [p.name, p.home ? '*' : '', when(p.createdAt, now), p.archivedAt === null ? null : when(p.archivedAt, now), p.store]);
      process.stdout.write(rows.length === 0 ? 'no projects\n' : table(['NAME', 'DEFAULT', 'CREATED', 'ARCHIVED', 'STORE'], rows));
      return ExitCode.ok;
    });
  },
};

const showUsage = 'baton project show <name> [--json]';
const show: Action = {
  name: 'show',
  summary: "one project: where its state is, and its status",
  usage: showUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, showUsage);
    if (values.help) {
      return printHelp(showUsage, `Prints the project, what its name came from (the default project's: the repository), and how many
sessions, leases and tasks (by state) it holds. An unknown name is NOT_FOUND.
`);
    }
    const name = nameArg(positionals, showUsage);
    return withDaemon(values, async (c) => {
      const project = await c.daemonOperation('projectShow', { name });
      if (values.json) {
        printJson(project);
        return ExitCode.ok;
      }
      const now = Date.now();
      const tasks = project.tasks === null ? null : Object.entries(project.tasks).map(([state, n]) => `${state} ${n}`).join(', ') || 'none';
      process.stdout.write(
        fields([
          ['project', project.name],
          ['default', project.home ? 'yes' : 'no'],
          ['created', when(project.createdAt, now)],
          ['state', stateOf(project, now)],
          ['store', project.store],
          ['named from', project.derivedFrom ?? undefined],
          ['sessions', project.sessions],
          ['leases', project.leases],
          ['tasks', tasks],
        ]),
      );
      return ExitCode.ok;
    });
  },
};

const createUsage = 'baton project create <name> [--json]';
const create: Action = {
  name: 'create',
  summary: 'make a project: a store of its own beside the default one (admin)',
  usage: createUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, createUsage);
    if (values.help) {
      return printHelp(
        createUsage,
        `Makes a project: a SQLite file under the state directory, or a PostgreSQL schema, that the daemon serves
beside its default project. Requests reach it with the header x-baton-project: <name>. Needs an admin:
this machine's user (the socket, or the state directory's key) or a token made with
'baton auth token create --admin'; give others a token with --project <name>.

  <name>   ${PROJECT_NAME_RULE}
`,
      );
    }
    const name = nameArg(positionals, createUsage);
    return withDaemon(values, async (c) => {
      const project = await c.daemonOperation('projectCreate', { name });
      if (values.json) printJson(project);
      else process.stdout.write(`created project ${project.name} (${project.store})\n`);
      return ExitCode.ok;
    });
  },
};

const archiveUsage = 'baton project archive <name> [--json]';
const archive: Action = {
  name: 'archive',
  summary: 'stop serving a project; its state is kept (admin)',
  usage: archiveUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, archiveUsage);
    if (values.help) {
      return printHelp(
        archiveUsage,
        `Archives a project: requests in it are refused from then on; its store is kept, and 'baton project list'
still shows it, archived. Needs an admin, as 'baton project create' does.
`,
      );
    }
    const name = nameArg(positionals, archiveUsage);
    return withDaemon(values, async (c) => {
      const project = await c.daemonOperation('projectArchive', { name });
      if (values.json) printJson(project);
      else process.stdout.write(`archived project ${project.name}${project.archivedAt === null ? '' : ` at ${new Date(project.archivedAt).toISOString()}`}\n`);
      return ExitCode.ok;
    });
  },
};

export const projectCommand = group('project', 'the projects one daemon serves, each a store of its own: list, show, create, archive', [list, show, create, archive]);
