// Token budgets (status; reserve, then commit the actual use; or report after
// the fact) and the rate limits every agent shares (token buckets by key).
import { z } from 'zod';
import { MAX_NAME_LENGTH, MAX_TOKENS } from '../../limits.ts';
import { seconds } from './inputs.ts';
import { tool } from './tool.ts';
import { budgetView, iso } from './views.ts';

const tokens = z.number().int().min(0).max(MAX_TOKENS);

export const budgetStatus = tool({
  name: 'budget_status',
  title: 'Token budgets',
  description: 'How much of the shared token budgets is used, reserved and left (overall, per agent, per model). Check it before starting expensive work.',
  input: z.strictObject({
    agent: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe('Only budgets that apply to this agent.'),
    model: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe('Only budgets that apply to this model.'),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const budgets = await ctx.backend.coordinator.budgetStatus({ ...(args.agent === undefined ? {} : { agent: args.agent }), ...(args.model === undefined ? {} : { model: args.model }) });
    return { budgets: budgets.map(budgetView) };
  },
});

export const budgetReserve = tool({
  name: 'budget_reserve',
  title: 'Reserve tokens before spending them',
  description:
    'Reserve an estimate of tokens before an expensive step (a sub-agent, a large generation). No reservation is granted past a limit, so agents that stay within their estimates cannot overshoot the budget together: estimate generously. Refused with BUDGET_EXCEEDED when it would pass a limit: stop, or ask your user. Afterwards call budget_commit with the actual use.',
  input: z.strictObject({
    estimate: z.number().int().positive().max(MAX_TOKENS).describe('Tokens you expect to use.'),
    model: z.string().min(1).max(MAX_NAME_LENGTH).optional(),
    agent: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe('Budget agent name. Default: your agent name.'),
    ttl_seconds: seconds(24 * 3600).optional().describe('An uncommitted reservation stops counting after this. Default 600.'),
  }),
  async run(args, ctx) {
    const r = await ctx.backend.coordinator.reserve({
      agent: args.agent ?? ctx.agent.name,
      estimate: args.estimate,
      ...(args.model === undefined ? {} : { model: args.model }),
      ...(args.ttl_seconds === undefined ? {} : { ttlMs: Math.ceil(args.ttl_seconds * 1000) }),
    });
    return { reservation_id: r.id, estimate: r.estimate, expires: iso(r.expiresAt), next: 'call budget_commit with this reservation_id and the tokens actually used' };
  },
});

export const budgetCommit = tool({
  name: 'budget_commit',
  title: 'Record the tokens a reservation used',
  description:
    'Record the tokens actually used against a reservation from budget_reserve; the estimate is replaced by the actual use. Use more than you reserved and all of it is still recorded (it was spent), but the budget may go over its limit: the answer\'s overshoot says by how much, and other agents see it.',
  input: z.strictObject({
    reservation_id: z.string().min(1).max(256),
    prompt_tokens: tokens,
    completion_tokens: tokens,
  }),
  async run(args, ctx) {
    const result = await ctx.backend.coordinator.commitReservation(args.reservation_id, { promptTokens: args.prompt_tokens, completionTokens: args.completion_tokens });
    const status = result.status === null ? null : budgetView(result.status);
    const o = result.overshoot;
    if (o === null) return { status, overshoot: null };
    const over = result.budgets.some((b) => b.exceeded);
    return {
      status,
      overshoot: { reservation_id: o.reservationId, estimate: o.estimate, actual: o.actual, by: o.by },
      next: `you used ${o.by} tokens more than you reserved; all ${o.actual} are recorded. ${over ? 'A budget is now over its limit: stop spending and tell your user.' : 'Reserve a larger estimate next time.'}`,
    };
  },
});

export const budgetReport = tool({
  name: 'budget_report',
  title: 'Report token use',
  description: 'Record tokens you used without a reservation (e.g. after each step). The answer tells you if a budget is near its limit (warning) or over it (exceeded): then stop spending and tell your user.',
  input: z.strictObject({
    model: z.string().min(1).max(MAX_NAME_LENGTH),
    prompt_tokens: tokens,
    completion_tokens: tokens,
    agent: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe('Default: your agent name.'),
  }),
  async run(args, ctx) {
    const result = await ctx.backend.coordinator.report({ agent: args.agent ?? ctx.agent.name, model: args.model, promptTokens: args.prompt_tokens, completionTokens: args.completion_tokens });
    return { status: result.status === null ? null : budgetView(result.status), budgets: result.budgets.map(budgetView) };
  },
});

export const rateLimitTake = tool({
  name: 'rate_limit_take',
  title: 'Take from a shared rate limit',
  description:
    'Take from a rate limit every agent shares (a token bucket by key, e.g. "github-api"), before calling that external service. granted: false means slow down: wait retry_after_ms and try again, or pass wait_seconds to wait in line. rate and burst create or change the limit.',
  input: z.strictObject({
    key: z.string().min(1).max(1024).describe('The limit\'s name, e.g. "github-api".'),
    cost: z.number().positive().max(1_000_000).optional().describe('Tokens to take. Default 1.'),
    wait_seconds: z.number().min(0).max(3600).optional().describe('Wait in line up to this long. Default 0: answer at once.'),
    rate: z.number().positive().max(1_000_000).optional().describe('Tokens per second (sets the limit).'),
    burst: z.number().positive().max(1_000_000).optional().describe('Bucket size (sets the limit).'),
  }),
  async run(args, ctx) {
    const wait = (args.wait_seconds ?? 0) > 0;
    const result = await ctx.backend.coordinator.take(args.key, {
      ...(args.cost === undefined ? {} : { cost: args.cost }),
      ...(args.rate === undefined ? {} : { rate: args.rate }),
      ...(args.burst === undefined ? {} : { burst: args.burst }),
      ...(wait ? { wait: true, timeoutMs: Math.ceil(args.wait_seconds! * 1000) } : {}),
    });
    return result.granted ? { granted: true, waited_ms: result.waitedMs } : { granted: false, retry_after_ms: result.retryAfterMs };
  },
});
