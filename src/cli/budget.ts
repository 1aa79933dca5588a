// baton budget set|remove|status|reserve|commit|cancel|report|usage|reset: budgets of
// LLM tokens that concurrent agents share (not the daemon's API tokens: baton auth token).
import type { BudgetPeriod, BudgetScope, BudgetStatus, UsageResult } from '../coordinator.ts';
import { BUDGET_PERIODS, DEFAULT_RESERVATION_MS, DEFAULT_WARN_PERCENT } from '../limits.ts';
import { ExitCode, UsageError, decimal, integer, millis, parse, positionalArgs, required } from './command.ts';
import { localActor } from './actor.ts';
import { fields, printJson, table, when } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';

const isPeriod = (value: string): value is BudgetPeriod => (BUDGET_PERIODS as readonly string[]).includes(value);

/**
 * A budget's state in a word or three: `over by N` once usage passed the limit
 * (a commit above its reservation, or reports), `full` when reservations hold
 * the rest (a new one is refused), then `warning` and `ok`. Also `baton status`.
 */
export function budgetState(s: BudgetStatus): string {
  if (s.used > s.limit) return `over by ${s.used - s.limit}`;
  if (s.remaining <= 0) return 'full';
  return s.warning ? 'warning' : 'ok';
}

function budgetTable(statuses: BudgetStatus[]): string {
  return table(
    ['SCOPE', 'PERIOD', 'LIMIT', 'USED', 'RESERVED', 'REMAINING', 'STATE'],
    statuses.map((s) => [s.scope, s.period, s.limit, s.used, s.reserved, s.remaining, budgetState(s)]),
  );
}

function usageResult(result: UsageResult): string {
  return result.budgets.length === 0 ? 'no budget applies\n' : budgetTable(result.budgets);
}

/** What a commit recorded, and by how much it passed its reservation. */
function committed(result: UsageResult, total: number): string {
  const o = result.overshoot;
  return o === null ? `committed ${total} tokens\n` : `committed ${total} tokens: ${o.by} more than the ${o.estimate} reserved (all recorded)\n`;
}

function scopeOf(values: { agent?: string | undefined; model?: string | undefined }): BudgetScope {
  const scope: BudgetScope = {};
  if (values.agent !== undefined) scope.agent = values.agent;
  if (values.model !== undefined) scope.model = values.model;
  return scope;
}

/** A scope in words: `agent a, model m`, or `all usage`. */
function describeScope(scope: BudgetScope): string {
  const parts = [scope.agent === undefined ? '' : `agent ${scope.agent}`, scope.model === undefined ? '' : `model ${scope.model}`].filter(Boolean);
  return parts.length === 0 ? 'all usage' : parts.join(', ');
}

const tokenCount = (name: string, value: string | undefined, usage: string): number => required(name, integer(name, value, { min: 0 }), usage);

const reportUsage = 'baton budget report --agent <a> --model <m> --prompt <n> --completion <n> [--db <path>] [--json]';
const report: Action = {
  name: 'report',
  summary: 'record tokens spent by an agent on a model',
  usage: reportUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, agent: { type: 'string' }, model: { type: 'string' }, prompt: { type: 'string' }, completion: { type: 'string' } },
      reportUsage,
    );
    if (values.help) {
      return printHelp(
        reportUsage,
        `Records usage after a call and prints the budgets it counts against. Reporting is never refused;
to keep concurrent agents under a limit, 'budget reserve' before the call instead.

  --agent <a>        who spent them
  --model <m>        on which model
  --prompt <n>       prompt (input) tokens
  --completion <n>   completion (output) tokens
`,
      );
    }
    positionalArgs(positionals, [], reportUsage);
    const usage = {
      agent: required('--agent', values.agent, reportUsage),
      model: required('--model', values.model, reportUsage),
      promptTokens: tokenCount('--prompt', values.prompt, reportUsage),
      completionTokens: tokenCount('--completion', values.completion, reportUsage),
    };
    return withCoordinator(values, async (c) => {
      const result = await c.report(usage);
      if (values.json) printJson(result);
      else process.stdout.write(`recorded ${usage.promptTokens + usage.completionTokens} tokens for ${usage.agent} on ${usage.model}\n${usageResult(result)}`);
      return ExitCode.ok;
    });
  },
};

const statusUsage = 'baton budget status [--agent <a>] [--model <m>] [--db <path>] [--json]';
const status: Action = {
  name: 'status',
  summary: 'budgets: limit, used, reserved, remaining',
  usage: statusUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' }, model: { type: 'string' } }, statusUsage);
    if (values.help) {
      return printHelp(statusUsage, `Shows every budget, or only the one of the scope given by --agent and/or --model.\n\n  --agent <a>   the budget of this agent\n  --model <m>   the budget of this model (with --agent: that agent's use of it)\n`);
    }
    positionalArgs(positionals, [], statusUsage);
    const filtered = values.agent !== undefined || values.model !== undefined;
    return withReader(values, async (c) => {
      const statuses = await c.budgetStatus(filtered ? scopeOf(values) : undefined);
      if (values.json) printJson(statuses);
      else process.stdout.write(statuses.length === 0 ? 'no budgets\n' : budgetTable(statuses));
      return ExitCode.ok;
    });
  },
};

const reserveUsage = 'baton budget reserve --agent <a> [--model <m>] --estimate <n> [--ttl <s>] [--db <path>] [--json]';
const reserve: Action = {
  name: 'reserve',
  summary: 'reserve tokens before a call (refused over budget)',
  usage: reserveUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' }, model: { type: 'string' }, estimate: { type: 'string' }, ttl: { type: 'string' } }, reserveUsage);
    if (values.help) {
      return printHelp(
        reserveUsage,
        `Reserves an estimate against every budget that applies, and prints the reservation's id. Refused with
BUDGET_EXCEEDED (exit 75) if it would take a budget over its limit. Then 'budget commit <id>' the actual
usage, or 'budget cancel <id>'.

  --agent <a>      who will spend them
  --model <m>      on which model
  --estimate <n>   how many tokens at most
  --ttl <s>        an uncommitted reservation stops counting after this (default ${DEFAULT_RESERVATION_MS / 1000})
`,
      );
    }
    positionalArgs(positionals, [], reserveUsage);
    const agent = required('--agent', values.agent, reserveUsage);
    const estimate = required('--estimate', integer('--estimate', values.estimate, { min: 1 }), reserveUsage);
    const ttlMs = millis('--ttl', values.ttl, true);
    return withCoordinator(values, async (c) => {
      const reservation = await c.reserve({ agent, estimate, ...(values.model === undefined ? {} : { model: values.model }), ...(ttlMs === undefined ? {} : { ttlMs }) });
      if (values.json) printJson(reservation);
      else {
        process.stdout.write(
          fields([
            ['id', reservation.id],
            ['agent', reservation.agent],
            ['model', reservation.model],
            ['estimate', reservation.estimate],
            ['expiresAt', when(reservation.expiresAt)],
          ]),
        );
      }
      return ExitCode.ok;
    });
  },
};

const commitUsage = 'baton budget commit <reservationId> --prompt <n> --completion <n> [--db <path>] [--json]';
const commit: Action = {
  name: 'commit',
  summary: 'replace a reservation by the actual usage',
  usage: commitUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, prompt: { type: 'string' }, completion: { type: 'string' } }, commitUsage);
    if (values.help) {
      return printHelp(
        commitUsage,
        `Records the actual usage of a reserved call and frees the reservation. Usage above the estimate is
recorded all the same (it was spent): the output says by how much, a tokens.overshoot event is emitted,
and a budget it takes past its limit shows as "over by <n>".

  --prompt <n>       prompt (input) tokens
  --completion <n>   completion (output) tokens
`,
      );
    }
    const [id] = positionalArgs(positionals, ['reservationId'], commitUsage);
    const actual = { promptTokens: tokenCount('--prompt', values.prompt, commitUsage), completionTokens: tokenCount('--completion', values.completion, commitUsage) };
    return withCoordinator(values, async (c) => {
      const result = await c.commitReservation(id!, actual);
      if (values.json) printJson(result);
      else process.stdout.write(`${committed(result, actual.promptTokens + actual.completionTokens)}${usageResult(result)}`);
      return ExitCode.ok;
    });
  },
};

const cancelUsage = 'baton budget cancel <reservationId> [--db <path>] [--json]';
const cancel: Action = {
  name: 'cancel',
  summary: 'drop a reservation (the call was not made)',
  usage: cancelUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, cancelUsage);
    if (values.help) return printHelp(cancelUsage, 'Drops a reservation without recording usage. --json prints null.\n');
    const [id] = positionalArgs(positionals, ['reservationId'], cancelUsage);
    return withCoordinator(values, async (c) => {
      await c.cancelReservation(id!);
      if (values.json) printJson(null);
      else process.stdout.write(`cancelled reservation ${id}\n`);
      return ExitCode.ok;
    });
  },
};

const setUsage = `baton budget set --limit <n> [--agent <a>] [--model <m>] [--period ${BUDGET_PERIODS.join('|')}] [--warn <percent>] [--db <path>] [--json]`;
const set: Action = {
  name: 'set',
  summary: 'create or change a budget',
  usage: setUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, limit: { type: 'string' }, agent: { type: 'string' }, model: { type: 'string' }, period: { type: 'string' }, warn: { type: 'string' } },
      setUsage,
    );
    if (values.help) {
      return printHelp(
        setUsage,
        `Sets (or changes) the budget of a scope: all usage, one agent (--agent), one model (--model), or one
agent's use of one model (both). Prints its status.

  --limit <n>        tokens per period
  --period <p>       ${BUDGET_PERIODS.join(', ')} (UTC; default none)
  --warn <percent>   emit one tokens.warning event per period at this share of the limit (default ${DEFAULT_WARN_PERCENT})
`,
      );
    }
    positionalArgs(positionals, [], setUsage);
    const limit = required('--limit', integer('--limit', values.limit, { min: 0 }), setUsage);
    const period = values.period;
    if (period !== undefined && !isPeriod(period)) {
      throw new UsageError(`--period must be one of ${BUDGET_PERIODS.join(', ')}, got ${JSON.stringify(period)}`);
    }
    const warnPercent = decimal('--warn', values.warn);
    if (warnPercent !== undefined && warnPercent > 100) throw new UsageError(`--warn must be a percent from 0 to 100, got ${JSON.stringify(values.warn)}`);
    return withCoordinator(values, async (c) => {
      const status = await c.setBudget({
        ...scopeOf(values),
        by: localActor(),
        limit,
        ...(period === undefined ? {} : { period }),
        ...(warnPercent === undefined ? {} : { warnPercent }),
      });
      if (values.json) printJson(status);
      else process.stdout.write(budgetTable([status]));
      return ExitCode.ok;
    });
  },
};

const removeUsage = 'baton budget remove [--agent <a>] [--model <m>] [--db <path>] [--json]';
const remove: Action = {
  name: 'remove',
  summary: 'remove a budget (its scope is then unlimited)',
  usage: removeUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' }, model: { type: 'string' } }, removeUsage);
    if (values.help) {
      return printHelp(
        removeUsage,
        `Removes the budget of one scope, named as in 'budget set': no --agent or --model is the budget on all
usage. A scope with no budget is a NOT_FOUND error. Recorded usage (budget usage) is kept. --json prints null.

  --agent <a>   the budget of this agent
  --model <m>   the budget of this model (with --agent: that agent's use of it)
`,
      );
    }
    positionalArgs(positionals, [], removeUsage);
    const scope = scopeOf(values);
    return withCoordinator(values, async (c) => {
      await c.removeBudget(scope, { by: localActor() });
      if (values.json) printJson(null);
      else process.stdout.write(`removed the budget of ${describeScope(scope)}\n`);
      return ExitCode.ok;
    });
  },
};

const usageUsage = 'baton budget usage [--db <path>] [--json]';
const usage: Action = {
  name: 'usage',
  summary: 'total tokens spent, by agent and by model',
  usage: usageUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, usageUsage);
    if (values.help) return printHelp(usageUsage, 'Totals of all reported usage, by agent and by model.\n');
    positionalArgs(positionals, [], usageUsage);
    return withReader(values, async (c) => {
      const totals = await c.usage();
      if (values.json) {
        printJson(totals);
        return ExitCode.ok;
      }
      if (totals.byAgent.length === 0) {
        process.stdout.write('no usage reported\n');
        return ExitCode.ok;
      }
      process.stdout.write(
        table(['AGENT', 'PROMPT', 'COMPLETION', 'TOTAL'], totals.byAgent.map((r) => [r.agent, r.promptTokens, r.completionTokens, r.total])) +
          '\n' +
          table(['MODEL', 'PROMPT', 'COMPLETION', 'TOTAL'], totals.byModel.map((r) => [r.model, r.promptTokens, r.completionTokens, r.total])),
      );
      return ExitCode.ok;
    });
  },
};

const resetUsage = 'baton budget reset [--agent <a>] [--model <m>] [--db <path>] [--json]';
const reset: Action = {
  name: 'reset',
  summary: "start a budget's current period from zero",
  usage: resetUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' }, model: { type: 'string' } }, resetUsage);
    if (values.help) {
      return printHelp(resetUsage, `Starts the current period of every budget, or of the one scope given by --agent and/or --model, from zero.\nRecorded usage (budget usage) is kept. --json prints null.\n`);
    }
    positionalArgs(positionals, [], resetUsage);
    const filtered = values.agent !== undefined || values.model !== undefined;
    return withCoordinator(values, async (c) => {
      await c.resetBudget(filtered ? scopeOf(values) : undefined, { by: localActor() });
      if (values.json) printJson(null);
      else process.stdout.write(filtered ? `reset the budget of ${describeScope(scopeOf(values))}\n` : 'reset every budget\n');
      return ExitCode.ok;
    });
  },
};

export const budgetCommand = group('budget', 'LLM token budgets agents share: set, reserve, commit, report, status', [set, remove, status, reserve, commit, cancel, report, usage, reset]);
