// Messages between agents: durable inboxes per agent name, threads,
// importance, read and acknowledged state per recipient (docs/messages.md).
import { z } from 'zod';
import { MAX_INBOX_LIMIT, MAX_MESSAGE_BODY_LENGTH, MAX_MESSAGE_RECIPIENTS, MAX_MESSAGE_SUBJECT_LENGTH, MESSAGE_IMPORTANCES, MESSAGE_KINDS } from '../limits.ts';
import { key, mutation, name, time } from './fields.ts';

export const importance = z.enum(MESSAGE_IMPORTANCES).describe("How important: 'low', 'normal' (the default), 'high' or 'urgent'.");
export const messageKind = z.enum(MESSAGE_KINDS);
export const messageId = z.int().min(1);
/** A thread: `m<id>` of the message that started it, or a name a sender chose. */
export const thread = name.describe('A thread: m<id> of the message that started it (what a reply names), or a name of your own.');

const TARGETS = ['agent', 'agents', 'holdersOf', 'all'] as const;

/** One object with exactly one field, rather than a union: a bad field is then named as itself ("to.agents must have at most ..."). */
export const messageTarget = z
  .strictObject({
    agent: name.optional().describe('One agent, by the name it registered or owns leases under.'),
    agents: z.array(name).min(1).max(MAX_MESSAGE_RECIPIENTS).optional().describe('Several agents, by name.'),
    holdersOf: key.optional().describe('Every holder of this key; for path:<glob>, every holder of an overlapping path lease.'),
    all: z.literal(true).optional().describe("Every live session's name but the sender's."),
  })
  .superRefine((to, ctx) => {
    const given = TARGETS.filter((f) => to[f] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `must name exactly one of agent, agents, holdersOf or all, not ${given.length === 0 ? 'none' : given.join(' and ')}`, input: to });
  })
  // Published too, so that the OpenAPI document says what the check does.
  .meta({ minProperties: 1, maxProperties: 1 })
  .describe('Exactly one of agent, agents, holdersOf or all.');

export const sendMessage = mutation.extend({
  from: name.describe('The sender, as recipients see it (not authenticated beyond the API token).'),
  to: messageTarget,
  subject: z.string().min(1).max(MAX_MESSAGE_SUBJECT_LENGTH),
  body: z.string().max(MAX_MESSAGE_BODY_LENGTH).optional(),
  thread: thread.optional().describe('The thread this replies in; omitted, the message starts its own (m<id>).'),
  importance: importance.optional(),
});

export const sentMessage = z.strictObject({
  id: messageId,
  thread: z.string(),
  recipients: z.array(z.string()).describe('Who got it, each once.'),
  at: time,
});

export const inboxOptions = z.strictObject({
  unread: z.boolean().optional().describe('Only messages not read yet.'),
  after: z.int().min(0).optional().describe('Only messages with an id greater than this (paging: the last id seen).'),
  thread: thread.optional(),
  notable: z.boolean().optional().describe("Only 'high' and 'urgent' messages, release requests and their answers (what the MCP tools' next-call note counts)."),
  limit: z.int().min(1).max(MAX_INBOX_LIMIT).optional(),
});

export const inboxEntry = z.strictObject({
  id: messageId,
  thread: z.string(),
  from: z.string(),
  subject: z.string(),
  body: z.string(),
  importance,
  kind: messageKind,
  ref: z.string().nullable().describe('What the message is about, for baton\'s own kinds (a release request\'s id, a path).'),
  at: time,
  readAt: time.nullable(),
  ackedAt: time.nullable(),
});

/** Whose inbox: an agent's name. */
export const agentName = name.describe('The agent whose inbox this is.');
export const messageIds = z.array(messageId).min(1).max(MAX_INBOX_LIMIT);
