// The name an agent holding a lease is known by: its session's name, else the
// lease's owner. An MCP agent's owner also carries its reason ("alice: fixing
// auth"), so its inbox, its release requests and its reports go by the
// session's name ("alice"). One rule for messages (holdersOf), release
// requests and the daemon's reservation violations.
import type { Coordinator } from '../coordinator.ts';
import { isBatonError } from '../errors.ts';
import type { StoreTx } from '../stores/store.ts';

/** The rule itself: the session's name when the lease has a live session, else the owner. */
export function holderName(owner: string, sessionName: string | undefined): string {
  return sessionName ?? owner;
}

/** Inside a transaction (the engine). */
export async function holderNameIn(tx: StoreTx, owner: string, sessionId: string | null): Promise<string> {
  const session = sessionId === null ? undefined : await tx.get<{ name: string }>('sessionGet', { id: sessionId });
  return holderName(owner, session?.name);
}

/** Through any Coordinator (the daemon's own checks): a session gone meanwhile leaves the owner. */
export async function holderNameOf(coordinator: Coordinator, lease: { owner: string; sessionId: string | null }): Promise<string> {
  if (lease.sessionId === null) return lease.owner;
  try {
    return holderName(lease.owner, (await coordinator.getSession(lease.sessionId)).name);
  } catch (error) {
    if (isBatonError(error, 'NOT_FOUND')) return lease.owner;
    throw error;
  }
}
