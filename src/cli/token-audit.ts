// A token change, recorded in the project's event log for the audit
// (docs/audit.md): `baton auth token create|revoke` write tokens.json
// themselves, then publish token.created or token.revoked {id, name, scopes,
// by} through the project's daemon or its store, if there is one (nothing is
// started or made for it). Never the token or its hash.
import { isBatonError } from '../errors.ts';
import { localActor } from './actor.ts';
import { warningLine } from './command.ts';
import { connectToRead } from './connect.ts';

export interface TokenChange {
  id: string;
  name?: string;
  scopes?: string[];
  expiresAt?: number | null;
}

/** Publishes the change; a store that cannot be reached is a warning, not a failure (tokens.json has changed already). */
export async function recordTokenChange(stateDir: string, type: 'token.created' | 'token.revoked', change: TokenChange): Promise<void> {
  const by = localActor();
  try {
    const reading = await connectToRead({ 'state-dir': stateDir }, { empty: false });
    if (reading === undefined) return;
    try {
      await reading.coordinator.publish({ type, key: change.id, actor: by, data: { ...change, by } });
    } finally {
      await reading.coordinator.close();
    }
  } catch (error) {
    process.stderr.write(warningLine(`the token change was made but not recorded in the event log: ${isBatonError(error) ? error.message : String(error)}`));
  }
}
