// baton auth token create|list|revoke: API tokens for the daemon's TCP listener
// (not LLM tokens: those are baton budget).
import { BatonError } from '../../errors.ts';
import { TOKEN_SCOPES } from '../../limits.ts';
import { createToken, listTokens, normalizeProjects, revokeToken, type TokenInfo } from '../../project/tokens.ts';
import { durationMs, ExitCode, parse, positionalArgs, UsageError } from '../command.ts';
import { printJson, table, when } from '../output.ts';
import { group, type Action } from '../group.ts';
import { ensureStateDir, stateDirOption } from '../state-dir.ts';
import { closest } from '../suggest.ts';
import { recordTokenChange } from '../token-audit.ts';

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

/** --scope's value: scopes separated by commas, each a known one. */
function scopesOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(',').map((s) => s.trim());
  for (const s of scopes) {
    if (!(TOKEN_SCOPES as readonly string[]).includes(s)) {
      throw new UsageError(`--scope has no scope ${JSON.stringify(s)}: the scopes are ${TOKEN_SCOPES.join(', ')}, separated by commas`, { didYouMean: closest(s, TOKEN_SCOPES) });
    }
  }
  return scopes;
}

/** What a token reaches, as `list` and `create` print it. */
const reachOf = (t: Pick<TokenInfo, 'projects' | 'admin'>): string => (t.admin ? 'admin (every project)' : t.projects === null ? '(default)' : t.projects.join(','));

const createUsage = 'baton auth token create <name> [--read-only | --scope <s>[,<s>...]] [--expires <duration>] [--project <name>]... [--admin] [--state-dir <dir>] [--json]';
const create: Action = {
  name: 'create',
  summary: 'make an API token for the daemon (shown once)',
  usage: createUsage,
  async run(argv) {
    const createOptions = { ...options, 'read-only': { type: 'boolean' }, scope: { type: 'string' }, expires: { type: 'string' }, project: { type: 'string', multiple: true }, admin: { type: 'boolean' } } as const;
    const { values, positionals } = parse(argv, createOptions, createUsage);
    if (values.help) {
      return printHelp(
        createUsage,
        `Makes an API token for clients of the daemon's TCP listener and prints it, once: only its hash is
kept (in <state dir>/tokens.json, mode 0600). The token alone goes to stdout, so
  TOKEN=$(baton auth token create ci)
works; the note that it will not be shown again goes to stderr. Clients send it as
'Authorization: Bearer <token>' (or ?access_token=<token> on GET requests, for EventSource).
--json prints {"id","name","token","createdAt","readOnly","scopes","expiresAt","projects","admin"}.

  <name>                 what the token is for (shown by 'baton auth token list')
  --scope <s>[,<s>...]   what it may do (default full); a request outside its scopes gets PERMISSION_DENIED (403):
                           full   everything
                           read   every read, nothing that changes state
                           tasks  the task queue and sessions (add, claim, complete, fail, ...; register, heartbeat)
                           files  leases and path reservations, file operations, git, and sessions
                           credentials  a model provider's current credential (baton auth token gemini,
                                  c.credential): the access token or API key, never the refresh token
                         Scopes add up: tasks,read may also read the rest (the event stream, status);
                         tasks,credentials works a queue and calls Gemini. Budgets, rate limits, publish,
                         sweep, forceRelease and /v1/mcp need full.
                         A token without read or full cannot open the dashboard.
  --read-only            the same as --scope read
  --expires <duration>   it stops working after this long: seconds, or with a unit (30m, 12h, 90d); then it gets
                         UNAUTHENTICATED (401) "token <id> expired at <time>" (default: never)
  --project <name>       a project it reaches (repeat for more); a request in any other project gets
                         PERMISSION_DENIED (403). Default: the daemon's default project alone
  --admin                it reaches every project and may create and archive them (not with --project)
`,
      );
    }
    const [name] = positionalArgs(positionals, ['name'], createUsage);
    if (values['read-only'] === true && values.scope !== undefined) throw new UsageError(`--read-only is --scope read: give one of them\nusage: ${createUsage}`);
    if (values.admin === true && values.project !== undefined) throw new UsageError(`--admin reaches every project: give --admin or --project, not both\nusage: ${createUsage}`);
    const scopes = scopesOption(values.scope);
    // Checked before the state directory is made: a bad name leaves nothing behind.
    const projects = values.project === undefined ? undefined : normalizeProjects(values.project);
    const expiresIn = durationMs('--expires', values.expires, true);
    const stateDir = stateDirOption(values['state-dir']);
    ensureStateDir(stateDir.path, stateDir.inWorkTree);
    const created = await createToken(stateDir.path, name!, {
      readOnly: values['read-only'] === true,
      ...(scopes === undefined ? {} : { scopes }),
      ...(expiresIn === undefined ? {} : { expiresInMs: expiresIn }),
      ...(projects === undefined ? {} : { projects }),
      admin: values.admin === true,
    });
    await recordTokenChange(stateDir.path, 'token.created', { id: created.id, name: created.name, scopes: created.scopes, expiresAt: created.expiresAt });
    if (values.json) {
      const { id, token, createdAt, readOnly, expiresAt, admin } = created;
      printJson({ id, name: created.name, token, createdAt, readOnly, scopes: created.scopes, expiresAt, projects: created.projects, admin });
      return ExitCode.ok;
    }
    process.stdout.write(`${created.token}\n`);
    const expiry = created.expiresAt === null ? '' : `, expires ${new Date(created.expiresAt).toISOString()}`;
    process.stderr.write(
      `created token ${created.id} (${created.name}; scope ${created.scopes.join(',')}; projects ${reachOf(created)}${expiry}) in ${stateDir.path}\n` +
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
    await recordTokenChange(stateDir, 'token.revoked', { id: id! });
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
      return printHelp(
        listUsage,
        `Lists the API tokens, oldest first: id, name, scopes, the projects it reaches ((default): the daemon's default
project alone; admin: every project), when created, when it expires (expired ones are marked; they stay listed
until revoked). The tokens themselves are not stored.
--json prints [{"id","name","createdAt","readOnly","scopes","expiresAt","projects","admin","expired"}] (projects null: the default project alone).
`,
      );
    }
    positionalArgs(positionals, [], listUsage);
    const now = Date.now();
    const tokens = (await listTokens(stateDirOption(values['state-dir']).path)).map((t) => ({ ...t, expired: t.expiresAt !== null && t.expiresAt <= now }));
    if (values.json) {
      printJson(tokens);
      return ExitCode.ok;
    }
    if (tokens.length === 0) {
      process.stdout.write('no tokens\n');
      return ExitCode.ok;
    }
    const expires = (t: (typeof tokens)[number]): string | null => (t.expired ? `EXPIRED ${when(t.expiresAt, now)}` : when(t.expiresAt, now));
    const rows = tokens.map((t) => [t.id, t.name, t.scopes.join(','), reachOf(t), when(t.createdAt, now), expires(t)]);
    process.stdout.write(table(['ID', 'NAME', 'SCOPES', 'PROJECTS', 'CREATED', 'EXPIRES'], rows));
    return ExitCode.ok;
  },
};

export const tokenGroup = group('auth token', "API tokens for the daemon's TCP listener: create, list, revoke", [create, list, revoke]);
