// Rate limits: token buckets shared by every process, waiters served in arrival order.
import { z } from 'zod';
import { MAX_BURST, MAX_RATE, MIN_RATE } from '../limits.ts';
import { key, mutation, wait } from './fields.ts';

// Bounded so every wait and debt the bucket computes stays finite (docs/engine.md, Rate limits).
const rate = z.number().min(MIN_RATE).max(MAX_RATE).describe(`Tokens per second, from ${MIN_RATE} to ${MAX_RATE}.`);
const burst = z.number().gt(0).max(MAX_BURST).describe('Bucket size: the most that can be taken at once after a quiet spell.');

export const rateLimitSpec = mutation.extend({
  rate,
  burst,
});

export const rateTakeOptions = mutation.extend({
  cost: z.number().gt(0).max(MAX_BURST).optional().describe('Tokens to take (at most the burst). Default 1.'),
  wait: z.boolean().optional().describe('Wait in line until granted (served in arrival order). Default false.'),
  timeoutMs: wait.optional().describe('The longest wait accepted; a longer one is refused with retryAfterMs. Default and most: 2^31-1 ms (about 24.8 days), what a timer can count.'),
  rate: rate.optional().describe('Create or change the limit as part of this call.'),
  burst: burst.optional(),
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
