// baton migrate: bring a PostgreSQL database's schema up to this baton's, on
// purpose (a daemon also does it when it starts; both take the same lock, so
// they never migrate twice). A database of a newer baton is refused.
import { ExitCode, parse, positionalArgs, UsageError, type Command } from './command.ts';
import { printJson } from './output.ts';

const usage = 'baton migrate [--store <postgres url>] [--json]';

const help = `Applies the schema migrations this baton knows to a PostgreSQL database and says which it applied.
Daemons started with --store do the same on start; run this to upgrade before rolling out, or to check.
A database migrated by a newer baton is refused (exit 1), and left as it is.

  --store <url>   postgres://user:password@host:port/database (default: $BATON_STORE)
  --json          print { target, from, to } as JSON
`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: "apply the schema migrations to a PostgreSQL store (daemons also do on start)",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n\n${help}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], usage);
    const url = values.store ?? (process.env.BATON_STORE || undefined);
    if (url === undefined) throw new UsageError(`baton migrate needs --store postgres://... (or $BATON_STORE)\nusage: ${usage}`);
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new UsageError(`--store must be a postgres:// url (a SQLite file is migrated whenever it is opened), got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`);
    }
    // Loaded here: no other command needs the PostgreSQL driver.
    const { migrateDatabase } = await import('../stores/postgres/postgres-store.ts');
    const result = await migrateDatabase(url);
    if (values.json) printJson(result);
    else if (result.from === result.to) process.stdout.write(`${result.target}: schema ${result.to}, up to date\n`);
    else process.stdout.write(`${result.target}: migrated from schema ${result.from} to ${result.to}\n`);
    return ExitCode.ok;
  },
};
