// Rate limits: token buckets shared by every process, waiters served in arrival order.
import { z } from 'zod';
import { key, ms, mutation } from './fields.ts';

const positive = z.number().gt(0);

export const rateLimitSpec = mutation.extend({
  rate: positive.describe('Tokens per second.'),
  burst: positive.describe('Bucket size: the most that can be taken at once after a quiet spell.'),
});

export const rateTakeOptions = mutation.extend({
  cost: positive.optional(),
  wait: z.boolean().optional().describe('Wait in line until granted (served in arrival order). Default false.'),
  timeoutMs: ms.optional().describe('The longest wait accepted; a longer one is refused with retryAfterMs. Default: unbounded.'),
  rate: positive.optional().describe('Create or change the limit as part of this call.'),
  burst: positive.optional(),
});

export const rateTakeResult = z.union([
  z.strictObject({ granted: z.literal(true), waitedMs: z.number() }),
  z.strictObject({ granted: z.literal(false), retryAfterMs: z.number() }),
]);

export const rateLimitStatus = z.strictObject({
  key,
  rate: z.number(),
  burst: z.number(),
  available: z.number().describe('Tokens in the bucket now; negative while callers wait in line.'),
});
