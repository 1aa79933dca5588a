// baton token create|revoke|list: API tokens for the daemon's TCP listener.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatonError, fsError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import { locateProject } from '../project/state-dir.ts';
import { createToken, listTokens, revokeToken } from '../project/tokens.ts';
import { ExitCode, UsageError, parse } from './command.ts';
import { ago, printJson, table } from './output.ts';
import { group, positionalArgs, type Action } from './store.ts';

const options = {
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const optionsHelp = `  --state-dir <dir>  the state directory (default: $BATON_HOME, else <git common dir>/baton, else <cwd>/.baton)
  --json             print the result as JSON (errors as {"error":{...}} on stderr)
`;

function printHelp(usage: string, body: string): number {
  process.stdout.write(`usage: ${usage}\n\n${body}${body.endsWith('\n') ? '' : '\n'}${optionsHelp}`);
  return ExitCode.ok;
}

interface Location {
  stateDir: string;
  /** The default <cwd>/.baton: it sits in a working tree. */
  inWorkTree: boolean;
}

/** --state-dir, else where the project keeps its state. */
function locate(stateDir: string | undefined): Location {
  if (stateDir === '') throw new UsageError('--state-dir must name a directory, got ""');
  if (stateDir !== undefined) return { stateDir: resolve(stateDir), inWorkTree: false };
  const found = locateProject();
  return { stateDir: found.stateDir, inWorkTree: found.source === 'cwd' };
}

/** Creates the state directory (mode 0700) if missing; one made in a working tree is kept out of git. */
function ensureStateDir(location: Location): void {
  const dir = location.stateDir;
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      return;
    }
    makeDirectories(dir, 0o700);
    if (location.inWorkTree) writeFileSync(join(dir, '.gitignore'), '*\n', { mode: 0o600 });
  } catch (error) {
    throw fsError(error, 'create the state directory', dir);
  }
}

const createUsage = 'baton token create <name> [--state-dir <dir>] [--json]';
const create: Action = {
  name: 'create',
  summary: 'make an API token for the daemon (shown once)',
  usage: createUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, createUsage);
    if (values.help) {
      return printHelp(
        createUsage,
        `Makes an API token for clients of the daemon's TCP listener and prints it, once: only its hash is
kept (in <state dir>/tokens.json, mode 0600). The token alone goes to stdout, so
  TOKEN=$(baton token create ci)
works; the note that it will not be shown again goes to stderr. Clients send it as
'Authorization: Bearer <token>' (or ?access_token=<token> on GET requests, for EventSource).
--json prints {"id","name","token","createdAt"}.

  <name>             what the token is for (shown by 'baton token list')
`,
      );
    }
    const [name] = positionalArgs(positionals, ['name'], createUsage);
    const location = locate(values['state-dir']);
    ensureStateDir(location);
    const created = await createToken(location.stateDir, name!);
    if (values.json) {
      printJson({ id: created.id, name: created.name, token: created.token, createdAt: created.createdAt });
      return ExitCode.ok;
    }
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(
      `created token ${created.id} (${created.name}) in ${location.stateDir}\n` +
        `This token will not be shown again: store it now. Revoke it with: baton token revoke ${created.id}\n`,
    );
    return ExitCode.ok;
  },
};

const revokeUsage = 'baton token revoke <id> [--state-dir <dir>] [--json]';
const revoke: Action = {
  name: 'revoke',
  summary: 'revoke an API token by its id',
  usage: revokeUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, revokeUsage);
    if (values.help) {
      return printHelp(
        revokeUsage,
        `Deletes the token with this id (see 'baton token list'). A running daemon refuses it from its next
request on. An unknown id is a NOT_FOUND error. --json prints {"id","revoked":true}.

  <id>               the token's id: 8 hex characters, the part after baton_ in the token
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], revokeUsage);
    const location = locate(values['state-dir']);
    if (!(await revokeToken(location.stateDir, id!))) {
      throw new BatonError('NOT_FOUND', `no token with id ${JSON.stringify(id)} in ${location.stateDir} (see baton token list)`, { details: { id } });
    }
    if (values.json) printJson({ id, revoked: true });
    else process.stdout.write(`revoked token ${id}\n`);
    return ExitCode.ok;
  },
};

const listUsage = 'baton token list [--state-dir <dir>] [--json]';
const list: Action = {
  name: 'list',
  summary: 'list the API tokens (ids and names, never the tokens)',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, listUsage);
    if (values.help) {
      return printHelp(listUsage, `Lists the API tokens, oldest first: id, name, when created. The tokens themselves are not stored.\n--json prints [{"id","name","createdAt"}].\n`);
    }
    positionalArgs(positionals, [], listUsage);
    const location = locate(values['state-dir']);
    const tokens = await listTokens(location.stateDir);
    if (values.json) {
      printJson(tokens);
      return ExitCode.ok;
    }
    if (tokens.length === 0) {
      process.stdout.write('no tokens\n');
      return ExitCode.ok;
    }
    const now = Date.now();
    process.stdout.write(table(['ID', 'NAME', 'CREATED'], tokens.map((t) => [t.id, t.name, `${new Date(t.createdAt).toISOString()} (${ago(t.createdAt, now)})`])));
    return ExitCode.ok;
  },
};

export const tokenCommand = group('token', 'API tokens for the daemon: create, revoke, list', [create, revoke, list]);
