// baton task approve|reject|policy: a person's gate before a task can be
// claimed (docs/approvals.md). Who decides: --by, else $BATON_AGENT, else
// <user>@<host>, as `baton msg` names its sender. Over TCP the token needs
// the approver scope; on the unix socket the local user may.
import type { ApprovalPolicy, Task } from '../coordinator.ts';
import { ExitCode, UsageError, integer, parse, positionalArgs, required } from './command.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import type { Action } from './group.ts';
import { agentName } from './msg.ts';
import { printJson, table, when } from './output.ts';

function taskId(value: string | undefined, usage: string): number {
  return integer('task id', required('<id>', value, usage), { min: 1 })!;
}

/** `approved by alice (2m ago): backup taken` for `task show`; undefined for a task that needed no approval. */
export function approvalLine(t: Task): string | undefined {
  const a = t.approval;
  if (a === null) return undefined;
  if (a.state === 'pending') return 'pending (baton task approve|reject)';
  return `${a.state} by ${a.by ?? 'unknown'} ${when(a.at) ?? ''}${a.reason ? `: ${a.reason}` : ''}`;
}

function decided(t: Task): string {
  const a = t.approval;
  const why = a?.reason ? `: ${a.reason}` : '';
  return `task ${t.id}: ${a?.state ?? t.status} by ${a?.by ?? 'unknown'}${why}; now ${t.status}${t.status === 'blocked' && t.reason ? ` (${t.reason})` : ''}\n`;
}

const approveUsage = 'baton task approve <id> [--reason <why>] [--by <name>] [--db <path>] [--json]';
export const approveAction: Action = {
  name: 'approve',
  summary: 'approve a task awaiting approval (it becomes claimable)',
  usage: approveUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, reason: { type: 'string' }, by: { type: 'string' } }, approveUsage);
    if (values.help) {
      return printHelp(
        approveUsage,
        `Approves task <id>, which awaits approval: it becomes ready (or blocked, if a dependency will never be
done). A task that does not await approval, or was decided already, is refused (CONFLICT).

  --reason <why>   why, kept with the task and in its task.approved event
  --by <name>      who approves (default: $BATON_AGENT, else "<user>@<host>")
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], approveUsage);
    const n = taskId(id, approveUsage);
    return withCoordinator(values, async (c) => {
      const task = await c.approveTask(n, { by: agentName(values.by), ...(values.reason === undefined ? {} : { reason: values.reason }) });
      if (values.json) printJson(task);
      else process.stdout.write(decided(task));
      return ExitCode.ok;
    });
  },
};

const rejectUsage = 'baton task reject <id> --reason <why> [--by <name>] [--db <path>] [--json]';
export const rejectAction: Action = {
  name: 'reject',
  summary: 'reject a task awaiting approval (it ends, rejected)',
  usage: rejectUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, reason: { type: 'string' }, by: { type: 'string' } }, rejectUsage);
    if (values.help) {
      return printHelp(
        rejectUsage,
        `Rejects task <id>, which awaits approval: it ends in state rejected and tasks that depend on it become
blocked. The agent that asked reads the reason.

  --reason <why>   why not (required)
  --by <name>      who rejects (default: $BATON_AGENT, else "<user>@<host>")
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], rejectUsage);
    const n = taskId(id, rejectUsage);
    const reason = required('--reason', values.reason, rejectUsage);
    return withCoordinator(values, async (c) => {
      const task = await c.rejectTask(n, { by: agentName(values.by), reason });
      if (values.json) printJson(task);
      else process.stdout.write(decided(task));
      return ExitCode.ok;
    });
  },
};

function printPolicies(policies: ApprovalPolicy[]): void {
  if (policies.length === 0) process.stdout.write('no queue needs approval\n');
  else process.stdout.write(table(['QUEUE', 'NEEDS APPROVAL SINCE'], policies.map((p) => [p.queue, when(p.since)])));
}

const policyUsage = 'baton task policy [<queue> --needs-approval|--no-approval] [--by <name>] [--db <path>] [--json]';
export const policyAction: Action = {
  name: 'policy',
  summary: "list or set the queues whose tasks need approval",
  usage: policyUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, 'needs-approval': { type: 'boolean' }, 'no-approval': { type: 'boolean' }, by: { type: 'string' } },
      policyUsage,
    );
    if (values.help) {
      return printHelp(
        policyUsage,
        `With no queue, lists the queues whose tasks need approval. With a queue:

  --needs-approval   every task added to <queue> from now on awaits approval (tasks already there are not touched)
  --no-approval      tasks added to <queue> from now on need none (unless added with --needs-approval)
  --by <name>        who sets it, for the event (default: $BATON_AGENT, else "<user>@<host>")
`,
      );
    }
    if (positionals.length === 0) {
      if (values['needs-approval'] || values['no-approval']) throw new UsageError(`name the queue: ${policyUsage}`);
      return withReader(values, async (c) => {
        const policies = await c.approvalPolicies();
        if (values.json) printJson(policies);
        else printPolicies(policies);
        return ExitCode.ok;
      });
    }
    const [queue] = positionalArgs(positionals, ['queue'], policyUsage);
    if (values['needs-approval'] === values['no-approval']) throw new UsageError(`give one of --needs-approval or --no-approval\nusage: ${policyUsage}`);
    const requiredNow = values['needs-approval'] === true;
    return withCoordinator(values, async (c) => {
      const policy = await c.setApprovalPolicy({ queue: queue!, required: requiredNow, by: agentName(values.by) });
      if (values.json) printJson(policy);
      else process.stdout.write(policy.required ? `queue ${policy.queue}: every task added needs approval\n` : `queue ${policy.queue}: tasks need no approval\n`);
      return ExitCode.ok;
    });
  },
};
