// Messages between agents: send_message, inbox (shows unread messages and
// marks them read) and ack_message. The agent speaks as its MCP session's
// name (agent.ts); its inbox is kept under that name across restarts.
import { z } from 'zod';
import type { InboxEntry, MessageTarget } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';
import { DEFAULT_MCP_INBOX_LIMIT, MAX_INBOX_LIMIT, MAX_MCP_INBOX_LIMIT, MAX_MESSAGE_BODY_LENGTH, MAX_MESSAGE_RECIPIENTS, MAX_MESSAGE_SUBJECT_LENGTH, PATH_PREFIX } from '../../limits.ts';
import { importance, messageId, thread } from '../../schema/messages.ts';
import { key as anyKey, name as agentName } from '../../schema/fields.ts';
import { markNoted } from './inbox-hint.ts';
import { pattern } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool, type ToolContext } from './tool.ts';
import { iso } from './views.ts';

function view(e: InboxEntry): Record<string, unknown> {
  return {
    id: e.id, thread: e.thread, from: e.from, subject: e.subject, body: e.body, importance: e.importance, kind: e.kind,
    ...(e.ref === null ? {} : { about: e.ref }), sent: iso(e.at), read: iso(e.readAt), acked: iso(e.ackedAt),
  };
}

function target(args: { to?: string | string[] | undefined; holders_of?: string | undefined; all?: boolean | undefined }, ctx: ToolContext): MessageTarget {
  const ways = [args.to !== undefined, args.holders_of !== undefined, args.all === true].filter(Boolean).length;
  if (ways !== 1) throw refusal('INVALID_ARGUMENT', 'name the recipients one way: to, holders_of or all', 'pass exactly one of to (agent names), holders_of (a key) or all: true; nothing was sent');
  if (args.all === true) return { all: true };
  if (args.holders_of !== undefined) {
    const k = args.holders_of;
    return { holdersOf: k.startsWith(PATH_PREFIX) ? PATH_PREFIX + pattern(k.slice(PATH_PREFIX.length), ctx.backend.root) : k };
  }
  const to = typeof args.to === 'string' ? [args.to] : args.to!;
  return to.length === 1 ? { agent: to[0]! } : { agents: to };
}

export const sendMessage = tool({
  name: 'send_message',
  title: 'Send a message to other agents',
  description: [
    'Send a message to other agents working in this project: by name (to), to whoever holds a reservation or lock (holders_of: "path:src/auth/**" or a lock name), or to every connected agent (all: true).',
    'Use it to say what you are doing, ask a question, or hand something over. Each recipient finds it in its inbox; high and urgent ones are pointed out on its next tool call.',
    'To ask a holder to give up a reservation, use request_release instead (it tracks the answer).',
    'Reply in a conversation by passing its thread (from the message you answer). An unknown name is refused with the known names nearest it; nothing is sent.',
  ].join(' '),
  input: z.strictObject({
    to: z.union([agentName, z.array(agentName).min(1).max(MAX_MESSAGE_RECIPIENTS)]).optional().describe('An agent name, or several.'),
    holders_of: anyKey.optional().describe('Everyone holding this key: "path:<glob>" (every overlapping reservation) or a lock name.'),
    all: z.boolean().optional().describe('Every connected agent but you.'),
    subject: z.string().min(1).max(MAX_MESSAGE_SUBJECT_LENGTH).describe('One line: what it is about.'),
    body: z.string().max(MAX_MESSAGE_BODY_LENGTH).optional().describe(`The text, at most ${MAX_MESSAGE_BODY_LENGTH} characters.`),
    thread: thread.optional(),
    importance: importance.optional(),
  }),
  async run(args, ctx) {
    const to = target(args, ctx);
    try {
      const sent = await ctx.backend.coordinator.sendMessage({
        from: ctx.agent.name, to, subject: args.subject,
        ...(args.body === undefined ? {} : { body: args.body }), ...(args.thread === undefined ? {} : { thread: args.thread }),
        ...(args.importance === undefined ? {} : { importance: args.importance }),
      });
      return {
        sent: { id: sent.id, thread: sent.thread, to: sent.recipients },
        next: `replies come to your inbox (call inbox); to continue this conversation pass thread "${sent.thread}"`,
      };
    } catch (error) {
      if (isBatonError(error, 'NOT_FOUND')) {
        const hint = 'holdersOf' in to || 'all' in to ? 'nobody to tell: no message was sent' : 'check the name (the status tool lists the agents here); nothing was sent';
        throw refusal('NOT_FOUND', error.message, hint, error.details);
      }
      throw error;
    }
  },
});

export const inbox = tool({
  name: 'inbox',
  title: 'Read your messages',
  description: [
    'Your messages from other agents and from baton (release requests, answers to yours, reservation violations), oldest first, with their text.',
    'By default only unread ones, which this marks read. Then act: reply with send_message (same thread), answer a release request with answer_release, and ack_message the ids you have dealt with.',
  ].join(' '),
  input: z.strictObject({
    include_read: z.boolean().optional().describe('Also messages already read (not acknowledged ones\' state changes). Default false.'),
    thread: thread.optional().describe('Only this conversation.'),
    after: z.int().min(0).optional().describe('Only messages with an id above this (the next page).'),
    limit: z.int().min(1).max(MAX_MCP_INBOX_LIMIT).optional().describe(`At most this many (default ${DEFAULT_MCP_INBOX_LIMIT}, at most ${MAX_MCP_INBOX_LIMIT}).`),
  }),
  noInboxNote: true,
  async run(args, ctx) {
    const c = ctx.backend.coordinator;
    const name = ctx.agent.name;
    const limit = args.limit ?? DEFAULT_MCP_INBOX_LIMIT;
    let entries = await c.inbox(name, { unread: args.include_read !== true, limit, ...(args.thread === undefined ? {} : { thread: args.thread }), ...(args.after === undefined ? {} : { after: args.after }) });
    const unread = entries.filter((e) => e.readAt === null).map((e) => e.id);
    if (unread.length > 0) {
      const read = new Map((await c.readMessages(name, unread)).map((e) => [e.id, e]));
      entries = entries.map((e) => read.get(e.id) ?? e);
    }
    markNoted(ctx.agent, entries.map((e) => e.id));
    const more = entries.length === limit ? `; more after id ${entries.at(-1)!.id} (pass after)` : '';
    return {
      agent: name,
      messages: entries.map(view),
      next: entries.length === 0
        ? 'no messages: carry on'
        : `reply with send_message (pass the thread), answer release requests with answer_release, then ack_message the ids you have dealt with${more}`,
    };
  },
});

export const ackMessage = tool({
  name: 'ack_message',
  title: 'Acknowledge messages',
  description: 'Mark messages in your inbox as dealt with (ids from inbox). Acknowledging twice changes nothing. Acknowledged messages are pruned after a while; unacknowledged ones are kept.',
  input: z.strictObject({ ids: z.array(messageId).min(1).max(MAX_INBOX_LIMIT).describe('Message ids from inbox.') }),
  annotations: { idempotentHint: true },
  noInboxNote: true,
  async run(args, ctx) {
    try {
      const acked = await ctx.backend.coordinator.ackMessages(ctx.agent.name, args.ids);
      return { acked, already: new Set(args.ids).size - acked, next: 'carry on' };
    } catch (error) {
      if (isBatonError(error, 'NOT_FOUND')) throw refusal('NOT_FOUND', error.message, 'that id is not in your inbox: call inbox to see your messages\' ids; nothing was acknowledged', error.details);
      throw error;
    }
  },
});
