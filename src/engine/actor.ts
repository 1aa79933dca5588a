// Who asked for a change, for the audit log (docs/audit.md): a mutation's
// optional `by` (the daemon sets it to the request's principal; the CLI to
// the local user) rides on its transaction, and every event the change
// emits names it: as the event's actor when the change has none of its own,
// else as data.by (a force-release names the holder as actor, the admin as by).
import { MAX_NAME_LENGTH } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { requireString } from './validate.ts';

const actors = new WeakMap<StoreTx, string>();

/** `by` as a mutation gives it: absent, or a name. */
export function checkBy(by: unknown): string | undefined {
  return by === undefined || by === null ? undefined : requireString('by', by, { max: MAX_NAME_LENGTH });
}

/** The transaction's changes are made for `by` (nothing when undefined). */
export function actFor(tx: StoreTx, by: string | undefined): void {
  if (by !== undefined) actors.set(tx, by);
}

/** An event's actor and data, with the transaction's `by` added where the event lacks it. */
export function stamp(tx: StoreTx, actor: string | null, data: Record<string, unknown>): { actor: string | null; data: Record<string, unknown> } {
  const by = actors.get(tx);
  if (by === undefined) return { actor, data };
  if (actor === null) return { actor: by, data };
  return actor === by || 'by' in data ? { actor, data } : { actor, data: { ...data, by } };
}
