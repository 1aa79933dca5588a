// What is going on: the project's coordination in one view (status) and the
// event log read from its newest end (recent_events).
import { z } from 'zod';
import type { Coordinator } from '../../coordinator.ts';
import { MAX_LIST_LIMIT } from '../../limits.ts';
import { name } from '../../schema/fields.ts';
import { tool } from './tool.ts';
import { iso } from './views.ts';

export const status = tool({
  name: 'status',
  title: 'Coordination status',
  description: 'One view of the project\'s coordination: the daemon, connected agents, reservations and locks, tasks by state, budgets and rate limits. Also readable as the resource baton://status.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true },
  async run(_args, ctx) {
    const [s, me] = await Promise.all([ctx.backend.status(), ctx.agent.current()]);
    return { you: { agent: ctx.agent.name, session_id: me?.id ?? null, reservations: [...ctx.agent.leases.keys()], claims: [...ctx.agent.claims.keys()] }, ...s };
  },
});

/** The newest event seq, found by galloping from the last one seen (the log is contiguous above its pruned start). */
async function latestSeq(c: Coordinator, hint: number): Promise<number> {
  const exists = async (seq: number): Promise<boolean> => seq === 0 || (await c.events({ after: seq - 1, limit: 1 })).length > 0;
  let lo = hint > 0 && (await exists(hint)) ? hint : 0;
  let step = 1024;
  let hi = lo + step;
  while (await exists(hi)) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export const recentEvents = tool({
  name: 'recent_events',
  title: 'What happened recently',
  description:
    'The newest events: reservations taken and released, files changed (fs.changed, with who changed them), tasks added, claimed, done, agents joining and leaving, commits. Filter by type prefix (e.g. ["fs.", "task."]). Pass after (the last_seq from a previous call) to get only what is new since.',
  input: z.strictObject({
    types: z.array(name).max(32).optional().describe('Type prefixes such as "lease.", "task.", "fs.changed", "agent.".'),
    after: z.number().int().min(0).optional().describe('Only events after this seq (the last_seq of an earlier answer).'),
    limit: z.number().int().min(1).max(500).optional().describe('At most this many. Default 50.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const limit = args.limit ?? 50;
    const types = args.types ?? [];
    let events;
    if (args.after !== undefined) {
      events = await c.events({ after: args.after, limit, types });
    } else {
      const last = await latestSeq(c, ctx.agent.lastSeq);
      // Read back from the end, widening until `limit` events match or the log's start is reached.
      let window = limit;
      for (;;) {
        const from = Math.max(0, last - window);
        events = await c.events({ after: from, limit: MAX_LIST_LIMIT, types });
        if (events.length >= limit || from === 0) break;
        window *= 4;
      }
      events = events.slice(-limit);
    }
    const lastSeq = events.at(-1)?.seq ?? args.after ?? ctx.agent.lastSeq;
    ctx.agent.lastSeq = Math.max(ctx.agent.lastSeq, lastSeq);
    return {
      events: events.map((e) => ({ seq: e.seq, at: iso(e.at), type: e.type, key: e.key, actor: e.actor, data: e.data })),
      last_seq: lastSeq,
    };
  },
});
