// baton auth token create|list|revoke: API tokens for the daemon's TCP listener
// (not LLM tokens: those are baton budget).
import { BatonError } from '../../errors.ts';
import { createToken, listTokens, revokeToken } from '../../project/tokens.ts';
import { ExitCode, parse, positionalArgs } from '../command.ts';
import { ago, printJson, table } from '../output.ts';
import { group, type Action } from '../group.ts';
import { ensureStateDir, stateDirOption } from '../state-dir.ts';

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

const createUsage = 'baton auth token create <name> [--read-only] [--state-dir <dir>] [--json]';
const create: Action = {
  name: 'create',
  summary: 'make an API token for the daemon (shown once)',
  usage: createUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...options, 'read-only': { type: 'boolean' } }, createUsage);
    if (values.help) {
      return printHelp(
        createUsage,
        `Makes an API token for clients of the daemon's TCP listener and prints it, once: only its hash is
kept (in <state dir>/tokens.json, mode 0600). The token alone goes to stdout, so
  TOKEN=$(baton auth token create ci)
works; the note that it will not be shown again goes to stderr. Clients send it as
'Authorization: Bearer <token>' (or ?access_token=<token> on GET requests, for EventSource).
--json prints {"id","name","token","createdAt"}.

  <name>             what the token is for (shown by 'baton auth token list')
  --read-only        the token may read but not change anything (mutations get PERMISSION_DENIED, 403)
`,
      );
    }
    const [name] = positionalArgs(positionals, ['name'], createUsage);
    const stateDir = stateDirOption(values['state-dir']);
    ensureStateDir(stateDir.path, stateDir.inWorkTree);
    const created = await createToken(stateDir.path, name!, { readOnly: values['read-only'] === true });
    if (values.json) {
      printJson({ id: created.id, name: created.name, token: created.token, createdAt: created.createdAt, readOnly: created.readOnly });
      return ExitCode.ok;
    }
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(
      `created ${created.readOnly ? 'read-only ' : ''}token ${created.id} (${created.name}) in ${stateDir.path}\n` +
        `This token will not be shown again: store it now. Revoke it with: baton auth token revoke ${created.id}\n`,
    );
    return ExitCode.ok;
  },
};

const revokeUsage = 'baton auth token revoke <id> [--state-dir <dir>] [--json]';
const revoke: Action = {
  name: 'revoke',
  summary: 'revoke an API token by its id',
  usage: revokeUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, revokeUsage);
    if (values.help) {
      return printHelp(
        revokeUsage,
        `Deletes the token with this id (see 'baton auth token list'). A running daemon refuses it from its next
request on. An unknown id is a NOT_FOUND error. --json prints {"id","revoked":true}.

  <id>               the token's id: 8 hex characters, the part after baton_ in the token
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], revokeUsage);
    const stateDir = stateDirOption(values['state-dir']).path;
    if (!(await revokeToken(stateDir, id!))) {
      throw new BatonError('NOT_FOUND', `no token with id ${JSON.stringify(id)} in ${stateDir} (see baton auth token list)`, { details: { id } });
    }
    if (values.json) printJson({ id, revoked: true });
    else process.stdout.write(`revoked token ${id}\n`);
    return ExitCode.ok;
  },
};

const listUsage = 'baton auth token list [--state-dir <dir>] [--json]';
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
    const tokens = await listTokens(stateDirOption(values['state-dir']).path);
    if (values.json) {
      printJson(tokens);
      return ExitCode.ok;
    }
    if (tokens.length === 0) {
      process.stdout.write('no tokens\n');
      return ExitCode.ok;
    }
    const now = Date.now();
    process.stdout.write(table(['ID', 'NAME', 'ACCESS', 'CREATED'], tokens.map((t) => [t.id, t.name, t.readOnly ? 'read-only' : 'full', `${new Date(t.createdAt).toISOString()} (${ago(t.createdAt, now)})`])));
    return ExitCode.ok;
  },
};

export const tokenGroup = group('auth token', "API tokens for the daemon's TCP listener: create, list, revoke", [create, list, revoke]);
