// Who a lease taken from the shell says holds it: something that is still
// there while the lease is. `baton lease acquire` exits at once, so its pid
// would name a dead process; the person and the command do not die. A pid
// only where that process holds the lease for its whole life (baton run).
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import { MAX_NAME_LENGTH } from '../limits.ts';

/** `<user>@<host>`. */
export function userAtHost(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

/** `alice@box (baton lease acquire)`: a lease that outlives the command that took it. */
export function cliOwner(command: string): string {
  return `${userAtHost()} (${command})`.slice(0, MAX_NAME_LENGTH);
}

/** `alice@box:4242 (baton run make)`: held by this baton process for as long as it runs `file`. */
export function runOwner(file: string): string {
  return `${userAtHost()}:${process.pid} (baton run ${basename(file)})`.slice(0, MAX_NAME_LENGTH);
}
