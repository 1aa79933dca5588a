// Who the CLI acts as, for the audit log (docs/audit.md): $BATON_ACTOR, else
// user:<the local login name>. Through a token or a signature, the daemon
// records that credential instead.
import { userInfo } from 'node:os';

export function localActor(): string {
  if (process.env.BATON_ACTOR) return process.env.BATON_ACTOR;
  try {
    return `user:${userInfo().username}`;
  } catch {
    // No passwd entry (a container running as a bare uid).
    return `user:${process.env.USER || process.getuid?.() || 'unknown'}`;
  }
}
