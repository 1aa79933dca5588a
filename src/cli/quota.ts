// baton quota set|rm|list: the project's quotas (docs/quotas.md): concurrent
// claims per agent, leases per session, unfinished tasks in the queue.
import type { QuotaName, QuotaStatus } from '../coordinator.ts';
import { MAX_QUOTA_LIMIT, QUOTA_NAMES } from '../limits.ts';
import { quotaLines } from '../project/quota-rows.ts';
import { ExitCode, UsageError, integer, parse, positionalArgs, required } from './command.ts';
import { printJson, table } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';

function quotaName(value: string, usage: string): QuotaName {
  if ((QUOTA_NAMES as readonly string[]).includes(value)) return value as QuotaName;
  throw new UsageError(`unknown quota ${JSON.stringify(value)}: one of ${QUOTA_NAMES.join(', ')}\nusage: ${usage}`);
}

const limitText = (limit: number | null): string => (limit === null ? 'none' : String(limit));

/** Also `baton status`. */
export function quotaTable(statuses: QuotaStatus[]): string {
  return table(['QUOTA', 'FOR', 'USED', 'LIMIT'], quotaLines(statuses).map((l) => [l.quota, l.who, l.used, limitText(l.limit)]));
}

const setUsage = 'baton quota set <quota> <n> [--agent <a>] [--db <path>] [--json]';
const set: Action = {
  name: 'set',
  summary: 'set a quota for the project, or one agent\'s own',
  usage: setUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' } }, setUsage);
    if (values.help) {
      return printHelp(
        setUsage,
        `Sets <quota> to <n> for the whole project, or with --agent for that agent only (overriding the project's).
A request that would go over it is refused whole with QUOTA_EXCEEDED (exit 75), naming the quota.

  claims-per-agent     tasks claimed at once by the sessions registered under one agent name
  leases-per-session   leases bound to one session held at once
  queued-tasks         tasks in the queue not yet finished (ready, claimed, blocked, awaiting approval)
  --agent <a>          this agent only (not for queued-tasks)
`,
      );
    }
    const [name, n] = positionalArgs(positionals, ['quota', 'n'], setUsage);
    const quota = quotaName(name!, setUsage);
    const limit = required('<n>', integer('<n>', n, { min: 0, max: MAX_QUOTA_LIMIT }), setUsage);
    return withCoordinator(values, async (c) => {
      const row = await c.setQuota({ quota, limit, ...(values.agent === undefined ? {} : { agent: values.agent }) });
      if (values.json) printJson(row);
      else process.stdout.write(`quota ${quota}${row.agent === null ? '' : ` for agent ${JSON.stringify(row.agent)}`} is ${limit}\n`);
      return ExitCode.ok;
    });
  },
};

const rmUsage = 'baton quota rm <quota> [--agent <a>] [--db <path>] [--json]';
const rm: Action = {
  name: 'rm',
  summary: 'remove a quota (or one agent\'s own limit)',
  usage: rmUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' } }, rmUsage);
    if (values.help) return printHelp(rmUsage, 'Removes the project-wide <quota>, or with --agent that agent\'s own limit (the project\'s then applies to it).\n');
    const [name] = positionalArgs(positionals, ['quota'], rmUsage);
    const quota = quotaName(name!, rmUsage);
    return withCoordinator(values, async (c) => {
      const row = await c.setQuota({ quota, limit: null, ...(values.agent === undefined ? {} : { agent: values.agent }) });
      if (values.json) printJson(row);
      else process.stdout.write(`quota ${quota}${row.agent === null ? '' : ` for agent ${JSON.stringify(row.agent)}`} removed\n`);
      return ExitCode.ok;
    });
  },
};

const listUsage = 'baton quota list [--db <path>] [--json]';
const list: Action = {
  name: 'list',
  summary: 'quotas, their limits and their use now',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, listUsage);
    if (values.help) return printHelp(listUsage, 'Shows each quota: the project-wide limit, agents\' own limits, and the use now (the agents and sessions holding the most).\n');
    positionalArgs(positionals, [], listUsage);
    return withReader(values, async (c) => {
      const statuses = await c.listQuotas();
      if (values.json) printJson(statuses);
      else process.stdout.write(quotaTable(statuses));
      return ExitCode.ok;
    });
  },
};

export const quotaCommand = group('quota', 'limits on claims per agent, leases per session, queued tasks (set, rm, list)', [set, rm, list]);
