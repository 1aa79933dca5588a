// Every event type baton itself writes to the log, in one list: what a
// webhook may subscribe to by prefix (a test checks that each type the code
// emits is here). Callers' own types (publish) are not listed: an endpoint
// with no prefixes receives every event, theirs too.
import { matchesTypes } from './events.ts';
import { invalid } from './validate.ts';

export const EVENT_TYPES = [
  'agent.registered', 'agent.ended',
  'lease.acquired', 'lease.released', 'lease.expired',
  'task.added', 'task.blocked', 'task.claimed', 'task.completed', 'task.failed', 'task.requeued', 'task.dead',
  'task.released', 'task.cancelled', 'task.removed', 'task.reordered', 'task.updated',
  'task.approval_requested', 'task.approved', 'task.rejected', 'approval.policy',
  'budget.set', 'budget.removed',
  'quota.set', 'quota.removed',
  'tokens.reserved', 'tokens.released', 'tokens.updated', 'tokens.warning', 'tokens.exceeded', 'tokens.overshoot', 'tokens.reset',
  'ratelimit.set', 'ratelimit.queued', 'ratelimit.throttled',
  'fs.changed', 'git.committed', 'reservation.violated',
  'credential.refreshed', 'credential.failed',
  'store.upgraded',
  'token.created', 'token.revoked',
  'project.created', 'project.archived',
  'webhook.added', 'webhook.removed', 'webhook.rotated', 'webhook.disabled', 'webhook.test',
  'kv.put', 'kv.deleted',
  'release.requested', 'release.answered',
  'message.sent', 'message.acked',
] as const;

/**
 * Event prefixes as an endpoint filters by them (`task.`, `task.completed`,
 * `lease.*`): each must match at least one known type, so a typo (`tasks.`,
 * `task`) is refused with the list rather than never matching.
 */
export function checkEventPrefixes(prefixes: readonly string[]): string[] {
  for (const prefix of prefixes) {
    if (EVENT_TYPES.some((type) => matchesTypes({ seq: 0, at: 0, type, key: null, actor: null, data: {} }, [prefix]))) continue;
    const families = [...new Set(EVENT_TYPES.map((t) => `${t.slice(0, t.indexOf('.'))}.`))];
    const hint = EVENT_TYPES.some((t) => t.startsWith(`${prefix}.`)) ? ` (a whole family ends with a dot: "${prefix}.")` : '';
    throw invalid(`unknown event prefix ${JSON.stringify(prefix)}${hint}: use a type or a family, one of ${families.join(' ')} or a type such as task.completed`);
  }
  return [...new Set(prefixes)];
}
