// Quotas (docs/quotas.md): limits a project sets on what one agent, one
// session or the whole queue may hold at once. A request over one is refused
// whole with QUOTA_EXCEEDED.
import { z } from 'zod';
import { MAX_QUOTA_LIMIT, QUOTA_NAMES } from '../limits.ts';
import { id, mutation, name, time } from './fields.ts';

export const quotaName = z.enum(QUOTA_NAMES).describe(
  'claims-per-agent: tasks claimed at once by the sessions of one agent (its name); leases-per-session: leases bound to one session; queued-tasks: tasks the queue holds not yet finished (ready, claimed, blocked, awaiting approval).',
);
const limit = z.int().min(0).max(MAX_QUOTA_LIMIT);

export const setQuotaOptions = mutation.extend({
  quota: quotaName,
  limit: limit.nullable().describe('The most allowed; null removes the quota (or the agent\'s own limit).'),
  agent: name.optional().describe('This agent only (a session\'s name), overriding the project-wide limit; not for queued-tasks.'),
});

export const quotaRow = z.strictObject({
  quota: quotaName,
  agent: z.string().nullable().describe('null: the project-wide limit.'),
  limit: z.int().nullable().describe('null: removed (no such limit now).'),
  updatedAt: time,
});

export const quotaUse = z.strictObject({
  agent: z.string().nullable().describe('The agent (claims-per-agent), the session\'s agent (leases-per-session); null for queued-tasks.'),
  sessionId: id.nullable().describe('The session (leases-per-session only).'),
  used: z.int(),
  limit: z.int().nullable().describe('The limit that applies to it (its own, else the project-wide one); null: none.'),
});

export const quotaStatus = z.strictObject({
  quota: quotaName,
  limit: z.int().nullable().describe('The project-wide limit; null: none.'),
  agents: z.array(z.strictObject({ agent: z.string(), limit: z.int() })).describe('Agents with a limit of their own.'),
  usage: z.array(quotaUse).describe('The use now, highest first (the top ones only, for claims and leases).'),
});
