// Token budgets: limits on LLM token usage, with reservations taken before a call.
import { z } from 'zod';
import { BUDGET_PERIODS, MAX_TOKEN_TOTAL, MAX_TOKENS, MAX_TTL_MS } from '../limits.ts';
import { id, instant, mutation, name, time } from './fields.ts';

export const budgetPeriod = z.enum(BUDGET_PERIODS);
/** One count of tokens; the store refuses usage that would take its sum past MAX_TOKEN_TOTAL. */
const tokens = z.int().min(0).max(MAX_TOKENS);

export const budgetScope = z
  .strictObject({ agent: name.optional(), model: name.optional() })
  .describe('A budget applies to all usage (no agent, no model), one agent, one model, or one agent\'s use of one model.');

export const budgetSpec = budgetScope.extend({
  ...mutation.shape,
  limit: z.int().min(0).max(MAX_TOKEN_TOTAL).describe('Tokens per period.'),
  period: budgetPeriod.optional(),
  warnPercent: z.number().min(0).max(100).optional().describe('Percent of the limit at which one warning event is emitted per period. Default 80.'),
});

export const budgetStatus = z.strictObject({
  scope: z.string(),
  agent: z.string().nullable(),
  model: z.string().nullable(),
  period: budgetPeriod,
  periodStart: time,
  limit: z.int(),
  used: z.int(),
  reserved: z.int(),
  remaining: z.int(),
  warning: z.boolean(),
  exceeded: z.boolean(),
});

export const usageReport = mutation.extend({ agent: name, model: name, promptTokens: tokens, completionTokens: tokens });

export const overshoot = z
  .strictObject({
    reservationId: z.string(),
    estimate: z.int().describe('The tokens reserved.'),
    actual: z.int().describe('The tokens used (prompt + completion), all recorded.'),
    by: z.int().min(1).describe('actual - estimate.'),
  })
  .describe('A commit that used more than its reservation: the usage is recorded all the same (it happened), and a tokens.overshoot event says so.');

export const usageResult = z
  .strictObject({
    status: budgetStatus.nullable().describe('The tightest budget that applies; null when none does.'),
    budgets: z.array(budgetStatus),
    overshoot: overshoot.nullable().describe('Set when a commit used more than its reservation; null for a commit within its estimate and for a report.'),
  })
  .describe('The result of a report or a commit: the tightest budget that applies, all of them, and any overshoot of the reservation.');

export const reservation = z.strictObject({ id: z.string(), agent: z.string(), model: z.string().nullable(), estimate: z.int(), expiresAt: time });

export const reserveOptions = mutation.extend({
  agent: name,
  model: name.optional(),
  estimate: z.int().min(1).max(MAX_TOKENS),
  ttlMs: z.int().min(1).max(MAX_TTL_MS).optional().describe('A reservation not committed or cancelled in time stops counting. Default 10 min, at most a year.'),
});

export const reservationId = id;

export const actualUsage = z.strictObject({ promptTokens: tokens, completionTokens: tokens });

const totals = { promptTokens: z.int(), completionTokens: z.int(), total: z.int() };
export const usageTotals = z.strictObject({
  byAgent: z.array(z.strictObject({ agent: z.string(), ...totals })),
  byModel: z.array(z.strictObject({ model: z.string(), ...totals })),
});

export const usageOptions = z.strictObject({ since: instant.optional().describe('Only usage recorded at or after this time (ms since the epoch).') });
