// Sessions: an agent or process that heartbeats; its leases and claims end with it.
import { z } from 'zod';
import { MAX_PID, MAX_TTL_MS, MIN_SESSION_TTL_MS } from '../limits.ts';
import { id, labels, mutation, name, reason, time } from './fields.ts';

export const session = z.strictObject({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  host: z.string(),
  pid: z.int().nullable(),
  labels,
  startedAt: time,
  heartbeatAt: time,
  ttlMs: z.int().describe('The session ends if no heartbeat comes for this long.'),
  endedAt: time.nullable(),
  endReason: z.string().nullable(),
});

export const registerOptions = mutation.extend({
  name,
  kind: name.optional(),
  host: name.optional().describe("Default: this machine's hostname."),
  pid: z.int().min(1).max(MAX_PID).nullable().optional().describe('Default: this process. On the same host a dead process ends the session at once.'),
  labels: labels.optional(),
  ttlMs: z.int().min(MIN_SESSION_TTL_MS).max(MAX_TTL_MS).optional().describe('Heartbeat deadline. Default 30 s, at most a year.'),
  autoHeartbeat: z.boolean().optional().describe('Heartbeat from this process every ttlMs / 3 until the session ends. Default true; the daemon ignores it (clients heartbeat).'),
});

export const sessionId = id;

export const endSessionOptions = mutation.extend({ reason: reason.optional() });

export const listSessionsOptions = z.strictObject({ includeEnded: z.boolean().optional() });
