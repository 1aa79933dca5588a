// baton audit: who did what and when, from the event log (docs/audit.md).
// One line an event: time, actor, action, subject. The actor is who asked
// (data.by: an operator's force-release, budget change, token change, ...)
// else the event's own actor (the agent or session that acted).
import type { BatonEvent, EventQuery } from '../coordinator.ts';
import { DEFAULT_AUDIT_LIMIT, MAX_LIST_LIMIT } from '../limits.ts';
import { ExitCode, durationMs, integer, parse, positionalArgs, UsageError, type Command } from './command.ts';
import { connectOptions, printHelp, withReader } from './connect.ts';
import { typePatterns } from './events.ts';
import { printJson, table } from './output.ts';

const usage = 'baton audit [--project <name>] [--since <1h|ISO time>] [--actor <a>] [--type <prefix>]... [--limit <n>] [--db <path>] [--json]';

export interface AuditEntry {
  seq: number;
  at: number;
  time: string;
  actor: string | null;
  action: string;
  subject: string | null;
  data: Record<string, unknown>;
}

/** Who asked for it: the operator named in data.by, else the event's actor. */
export function auditEntry(e: BatonEvent): AuditEntry {
  const by = typeof e.data.by === 'string' ? e.data.by : null;
  return { seq: e.seq, at: e.at, time: new Date(e.at).toISOString(), actor: by ?? e.actor, action: e.type, subject: e.key, data: e.data };
}

/** --since: a duration back from now (90s, 30m, 1h, 7d) or an ISO time. */
function sinceOption(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new UsageError(`--since must be a duration (1h, 30m) or an ISO time, got ${JSON.stringify(value)}`);
    return at;
  }
  return now - durationMs('--since', value)!;
}

/** What a line says of the subject beyond its key: the few fields an operator looks for. */
function detail(e: AuditEntry): string {
  const d = e.data;
  const parts: string[] = [];
  for (const field of ['reason', 'name', 'scopes', 'limit', 'rate', 'burst', 'forced', 'artifacts', 'error'] as const) {
    if (d[field] !== undefined && d[field] !== null) parts.push(`${field}=${typeof d[field] === 'string' ? d[field] : JSON.stringify(d[field])}`);
  }
  return parts.join(' ');
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'who did what and when, from the event log',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, since: { type: 'string' }, actor: { type: 'string' }, type: { type: 'string', multiple: true }, limit: { type: 'string' } },
      usage,
    );
    if (values.help) {
      return printHelp(
        usage,
        `Prints who did what and when, oldest first, from the project's event log: one line an event with its
time, actor, action (the event type) and subject (the lease key, task id, budget scope, token id, ...).
The actor is who asked: for an operator's action (force-release, ending a session, cancelling a task,
budget, rate-limit and approval changes, token create/revoke) the person or credential that asked
(user:<login> from the CLI, token:<id> or hmac:<key> through the daemon), else the agent that acted.
Secrets never appear: token events carry the id, name and scopes only.

  --since <when>    only events from then on: a duration back from now (90s, 30m, 1h, 7d) or an ISO time
  --actor <a>       only events whose actor is this (e.g. user:alice, token:1a2b3c4d, a session id)
  --type <prefix>   only these actions; repeatable: 'lease' matches lease.*, 'task.cancelled' only that
  --limit <n>       the newest n matching events (default ${DEFAULT_AUDIT_LIMIT})
  --json            an array of {seq, at, time, actor, action, subject, data}
`,
      );
    }
    positionalArgs(positionals, [], usage);
    const now = Date.now();
    const since = sinceOption(values.since, now);
    const limit = integer('--limit', values.limit, { min: 1, max: MAX_LIST_LIMIT }) ?? DEFAULT_AUDIT_LIMIT;
    const types = typePatterns(values.type);
    // --project (or $BATON_PROJECT) is a connection option: the daemon routes the reads to that project's store.
    return withReader(values, async (c) => {
      const found: AuditEntry[] = [];
      const query: EventQuery = { after: 0, limit: MAX_LIST_LIMIT, ...(types === undefined ? {} : { types }) };
      // The log has no index by time or actor: read it through, keeping the newest `limit` that match.
      for (;;) {
        const batch = await c.events(query);
        for (const event of batch) {
          const entry = auditEntry(event);
          if (since !== undefined && entry.at < since) continue;
          if (values.actor !== undefined && entry.actor !== values.actor) continue;
          found.push(entry);
          if (found.length > limit) found.shift();
        }
        if (batch.length < MAX_LIST_LIMIT) break;
        query.after = batch.at(-1)!.seq;
      }
      if (values.json) printJson(found);
      else if (found.length === 0) process.stdout.write('no events\n');
      else process.stdout.write(table(['TIME', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAIL'], found.map((e) => [e.time, e.actor ?? '-', e.action, e.subject ?? '-', detail(e)])));
      return ExitCode.ok;
    });
  },
};
