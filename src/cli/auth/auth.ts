// baton auth: credentials. `token` holds the daemon's API tokens; providers'
// logins (e.g. `baton auth login gemini`) are to sit beside it.
import { group } from '../group.ts';
import { tokenGroup } from './token.ts';

export const authCommand = group('auth', "credentials: the daemon's API tokens (auth token create, list, revoke)", [tokenGroup]);
