// Who an administrative request is recorded as (docs/audit.md). A caller on
// the daemon's own socket is trusted to name itself (the CLI sends the local
// user as `by`); a caller with a token or a signature is named by that
// credential, whatever `by` it sent, so no token can act under another name.
import { EVENT_TYPES } from '../engine/event-types.ts';
import { BatonError } from '../errors.ts';
import type { OperationName } from './operations.ts';

/** The operations an operator, not a worker, does: each is recorded with who asked even when the caller sent no `by`. */
export const ADMIN_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  'forceRelease', 'endSession', 'updateTask', 'removeTask', 'reorderTask', 'cancel', 'releaseClaim',
  'approveTask', 'rejectTask', 'setApprovalPolicy',
  'setBudget', 'removeBudget', 'resetBudget', 'setRateLimit',
  'projectCreate', 'projectArchive', 'setQuota',
]);

/** Sets a checked mutation body's `by` to the credential that sent it (`principal`: 'local' for the socket, left as sent). */
export function nameActor(name: OperationName, body: Record<string, unknown>, principal: string): void {
  if (principal === 'local') return;
  if (ADMIN_OPERATIONS.has(name) || body.by !== undefined) body.by = principal;
}

/**
 * A published event is kept as its publisher wrote it; so that no audit line
 * of baton's own actions can be forged through the API, a caller with a token
 * or a signature may not publish baton's own event types (the machine's user,
 * on the socket, may: it can write the database too).
 */
export function refuseBatonTypes(who: { principal: string }, type: string): void {
  if (who.principal === 'local' || !(EVENT_TYPES as readonly string[]).includes(type)) return;
  throw new BatonError('PERMISSION_DENIED', `${who.principal} cannot publish ${type}: it is one of baton's own event types; publish a type of your own (e.g. build.finished)`, {
    details: { principal: who.principal, type },
  });
}
