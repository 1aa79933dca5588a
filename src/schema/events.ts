// Events: the log every change appends to, read by seq or streamed.
import { z } from 'zod';
import { MAX_LIST_LIMIT, MAX_NAME_LENGTH } from '../limits.ts';
import { dataObject, key, mutation, name, time } from './fields.ts';

export const batonEvent = z.strictObject({
  seq: z.int(),
  at: time,
  type: z.string(),
  key: z.string().nullable(),
  actor: z.string().nullable(),
  data: dataObject,
});

export const eventQuery = z.strictObject({
  after: z.int().min(0).optional().describe('Events with seq greater than this. Default 0.'),
  limit: z.int().min(1).max(MAX_LIST_LIMIT).optional(),
  types: z.array(z.string().min(1).max(MAX_NAME_LENGTH)).optional().describe("Type prefixes, e.g. ['task.', 'lease.acquired']."),
});

export const publishOptions = mutation.extend({
  type: name.describe("A dotted type, e.g. 'build.finished'; subscribers filter by prefix."),
  key: key.nullable().optional(),
  actor: name.nullable().optional(),
  data: dataObject.optional(),
});

export const sweepResult = z.strictObject({ leasesExpired: z.int(), claimsExpired: z.int(), sessionsEnded: z.int(), eventsPruned: z.int() });
