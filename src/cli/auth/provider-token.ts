// baton auth token <provider>: a current credential on stdout, for scripts:
//   curl -H "Authorization: Bearer $(baton auth token gemini)" ...
// Through the project's daemon when one runs (the broker: this process never
// sees the refresh token), else refreshed here under the login's lock. Like a
// reading command, it starts no daemon and makes no database.
import type { Credential, Coordinator } from '../../coordinator.ts';
import { CredentialBroker } from '../../credentials/broker.ts';
import { isBatonError } from '../../errors.ts';
import { MAX_MIN_VALIDITY_MS } from '../../limits.ts';
import { ExitCode, UsageError, millis, parse, positionalArgs } from '../command.ts';
import { connectHelp, connectOptions, connectToRead, type ConnectChoice } from '../connect.ts';
import { printJson } from '../output.ts';
import type { Action } from '../group.ts';
import { providerArg } from './login.ts';

const usage = 'baton auth token <provider> [--min-validity <s>] [--json] [--db <path> | --no-daemon | --state-dir <dir>]';

/**
 * The coordinator to ask: the project's running daemon, else its database (so
 * the refresh is in its event log); undefined where there is neither, or no
 * project (then the broker is asked directly).
 */
async function coordinatorFor(values: ConnectChoice): Promise<Coordinator | undefined> {
  try {
    return (await connectToRead(values, { empty: false }))?.coordinator;
  } catch (error) {
    if (isBatonError(error, 'NO_PROJECT')) return undefined;
    throw error;
  }
}

export const providerToken: Action = {
  name: '<provider>',
  summary: "print a current credential for a model provider (gemini): the access token or API key",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, 'min-validity': { type: 'string' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}

Prints the provider's current access token (refreshed first when near expiry, by one process for
all) or API key, and nothing else, for scripts: Authorization: Bearer $(baton auth token gemini).
Asks the project's daemon when one runs (it starts none), else refreshes here under the login's
lock (recording the refresh in the project's event log when it has one).

  --min-validity <s>  the token must stay valid at least this long (default 60)
  --json              print {"provider","type","token","headers","expiresAt","source","project","region"}
${connectHelp}`);
      return ExitCode.ok;
    }
    const [word] = positionalArgs(positionals, ['provider'], usage);
    const provider = providerArg(word, usage);
    const minValidityMs = millis('--min-validity', values['min-validity']);
    if (minValidityMs !== undefined && minValidityMs > MAX_MIN_VALIDITY_MS) {
      throw new UsageError(`--min-validity must be at most ${MAX_MIN_VALIDITY_MS / 1000} s, got ${JSON.stringify(values['min-validity'])}`);
    }
    const options = minValidityMs === undefined ? {} : { minValidityMs };
    const coordinator = await coordinatorFor(values);
    let credential: Credential;
    try {
      credential = coordinator === undefined ? await new CredentialBroker().get(provider, options) : await coordinator.credential(provider, options);
    } finally {
      await coordinator?.close();
    }
    if (values.json) printJson(credential);
    else process.stdout.write(`${credential.token}\n`);
    return ExitCode.ok;
  },
};
