// baton config check|show: the project's configuration file (baton.toml),
// checked, and the configuration in force with where each value came from.
import { relative } from 'node:path';
import { locateProject } from '../project/state-dir.ts';
import type { Effective, Source } from '../config/effective.ts';
import { ExitCode, parse, positionalArgs, type Command } from './command.ts';
import { printJson, table } from './output.ts';
import { group, type Action } from './group.ts';

const options = { file: { type: 'string' }, json: { type: 'boolean' } } as const;

const fileHelp = `  --file <path>   the configuration file (default: $BATON_CONFIG, else baton.toml at the project root)
  --json          print the result as JSON
`;

/** The file and the configuration in force here, checked (CONFIG_INVALID names file, line and reason). Loaded only when asked. */
async function load(given: string | undefined): Promise<{ path: string; effective: Effective }> {
  const { findConfig } = await import('../config/load.ts');
  const { effectiveConfig } = await import('../config/effective.ts');
  const { path, file } = await findConfig(locateProject().root, given);
  return { path, effective: effectiveConfig(file, process.env) };
}

/** A path as short as it reads well: relative to here when it is under here. */
function near(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

function where(source: Source): string {
  if (source.kind === 'file') return `${near(source.file)}${source.line === undefined ? '' : `:${source.line}`}`;
  return source.kind === 'env' ? `env ${source.name}` : 'default';
}

const checkUsage = 'baton config check [--file <path>] [--json]';
const check: Action = {
  name: 'check',
  summary: 'check the configuration file and the variables that override it',
  usage: checkUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, checkUsage);
    if (values.help) {
      process.stdout.write(`usage: ${checkUsage}\n\nChecks baton.toml (its syntax, its keys, each value's range) and the BATON_* variables that
override it. A problem is one line, <file>:<line>: <reason>, and exit 1; a good file exits 0.
No file is fine: the defaults and the environment apply.

${fileHelp}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], checkUsage);
    const { path, effective } = await load(values.file);
    const counts = { settings: 0, env: 0 };
    for (const v of effective.values.values()) {
      if (v.source.kind === 'file') counts.settings++;
      if (v.source.kind === 'env') counts.env++;
    }
    const found = effective.file !== undefined;
    if (values.json) {
      printJson({ file: path, exists: found, ok: true, fromFile: counts.settings, fromEnv: counts.env, budgets: effective.budgets.length, rateLimits: effective.rateLimits.length });
    } else if (!found) {
      process.stdout.write(`no ${near(path)}: the defaults apply${counts.env === 0 ? '' : `, with ${counts.env} from the environment`}\n`);
    } else {
      process.stdout.write(
        `${near(path)}: ok (${counts.settings} setting${counts.settings === 1 ? '' : 's'}, ${effective.budgets.length} budget${effective.budgets.length === 1 ? '' : 's'}, ` +
          `${effective.rateLimits.length} rate limit${effective.rateLimits.length === 1 ? '' : 's'}${counts.env === 0 ? '' : `; ${counts.env} overridden by the environment`})\n`,
      );
    }
    return ExitCode.ok;
  },
};

const showUsage = 'baton config show [--file <path>] [--json]';
const show: Action = {
  name: 'show',
  summary: 'the configuration in force, and where each value came from',
  usage: showUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, showUsage);
    if (values.help) {
      process.stdout.write(`usage: ${showUsage}

Prints every setting as a daemon started here now would have it, with its source: the file and
line, the environment variable (env NAME), or the default; and whether a running daemon applies a
change to it at once (live) or at its next start. Then the budgets and rate limits the file sets.
\`baton serve\`'s flags win over all of these.

${fileHelp}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], showUsage);
    const { path, effective } = await load(values.file);
    const settings = [...effective.values.values()];
    if (values.json) {
      printJson({
        file: effective.file === undefined ? null : path,
        settings: settings.map(({ setting, value, source }) => ({ key: setting.key, value: value ?? null, source, env: setting.env, applies: setting.applies })),
        budgets: effective.budgets,
        rateLimits: effective.rateLimits,
      });
      return ExitCode.ok;
    }
    process.stdout.write(effective.file === undefined ? `no ${near(path)}: defaults and environment\n\n` : `${near(path)}\n\n`);
    process.stdout.write(
      table(
        ['KEY', 'VALUE', 'APPLIES', 'SOURCE'],
        settings.map(({ setting, value, source }) => [setting.key, value === undefined ? null : setting.show(value), setting.applies, where(source)]),
      ),
    );
    if (effective.budgets.length > 0) {
      process.stdout.write('\n');
      process.stdout.write(
        table(
          ['BUDGET', 'LIMIT', 'PERIOD', 'WARN%', 'SOURCE'],
          effective.budgets.map((b) => [b.agent !== undefined ? `agent ${b.agent}` : b.model !== undefined ? `model ${b.model}` : 'total', b.limit, b.period, b.warnPercent, where(b.source)]),
        ),
      );
    }
    if (effective.rateLimits.length > 0) {
      process.stdout.write('\n');
      process.stdout.write(table(['RATE LIMIT', 'RATE/S', 'BURST', 'SOURCE'], effective.rateLimits.map((l) => [l.key, l.rate, l.burst, where(l.source)])));
    }
    return ExitCode.ok;
  },
};

export const configCommand: Command = group('config', 'the configuration file baton.toml (check, show)', [check, show]);
