// baton auth: credentials. Model providers' logins (login, logout, status,
// and `token <provider>` for a current credential), and the daemon's own API
// tokens (`token create|list|revoke`) and its signing key (`rotate-key`).
import { CREDENTIAL_PROVIDERS } from '../../limits.ts';
import { group, type Action, type Group } from '../group.ts';
import { loginActions } from './login.ts';
import { providerToken } from './provider-token.ts';
import { rotateKeyAction } from './rotate-key.ts';
import { tokenGroup } from './token.ts';

/** `auth token gemini` is a provider's credential; `auth token create|list|revoke` the daemon's API tokens. */
const token: Group = {
  ...tokenGroup,
  summary: `${tokenGroup.summary}; or a provider's current credential (auth token ${CREDENTIAL_PROVIDERS.join('|')})`,
  actions: [...tokenGroup.actions, providerToken],
  async run(argv) {
    if ((CREDENTIAL_PROVIDERS as readonly string[]).includes(argv[0] ?? '')) return providerToken.run(argv.slice(0));
    const code = await tokenGroup.run(argv);
    if (argv.length <= 1 && (argv[0] === undefined || ['--help', '-h', 'help'].includes(argv[0]))) {
      process.stdout.write(`\nA provider's current credential (access token or API key), for scripts:\n  ${providerToken.usage}\n`);
    }
    return code;
  },
};

const actions: Action[] = [...loginActions, token, rotateKeyAction];

export const authCommand = group('auth', "credentials: model providers' logins (login, logout, status, token gemini), the daemon's API tokens and HMAC key", actions);
