// baton task add|list|show|claim|renew|complete|fail|release|cancel: the task queue.
import type { Claim, Coordinator, Task, TaskSpec } from '../coordinator.ts';
import { DEFAULT_CLAIM_MS, DEFAULT_LIST_LIMIT, DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, MAX_BATCH, MAX_LIST_LIMIT, MAX_PRIORITY, MAX_TASK_ATTEMPTS } from '../limits.ts';
import { ExitCode, UsageError, integer, jsonOption, millis, parse, positionalArgs, required, warningLine } from './command.ts';
import { artifactHelp, artifactLines, artifactOptions, parseArtifacts } from './task-artifacts.ts';
import { localActor } from './actor.ts';
import { compact, duration, fields, printJson, table, when } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';
import { state } from './style.ts';
import { closest } from './suggest.ts';
import { approvalLine, approveAction, policyAction, rejectAction } from './task-approval.ts';
import { ANONYMOUS, claimSession, claimSessionOf, endIfSettled } from './task-session.ts';
import { SHOWN_STATES, isWaiting, shownStatus, statusFilter, unfinishedDependencies, waitingFor, waitingNote, type ShownStatus, type Unfinished } from './task-waiting.ts';

function showTask(t: Task, unfinished?: Unfinished[]): string {
  return fields([
    ['id', t.id],
    ['title', t.title],
    ['queue', t.queue],
    ['status', state(shownStatus(t))],
    ['waitingFor', waitingFor(t, unfinished, Date.now(), true) ?? undefined],
    ['priority', t.priority],
    ['attempts', `${t.attempts} of ${t.maxAttempts}`],
    ['dependsOn', t.dependsOn.length === 0 ? undefined : t.dependsOn.join(', ')],
    ['runAt', when(t.runAt)],
    ['payload', t.payload === null ? undefined : compact(t.payload)],
    ['result', t.result === null ? undefined : compact(t.result)],
    ['reason', t.reason ?? undefined],
    ['lastError', t.lastError ?? undefined],
    ['approval', approvalLine(t)],
    ['claimedBy', t.claimedBy ?? undefined],
    ['claimExpiresAt', t.claimExpiresAt === null ? undefined : when(t.claimExpiresAt)],
    ['version', t.version],
    ['createdAt', when(t.createdAt)],
    ['updatedAt', when(t.updatedAt)],
  ]);
}

/** A task as `task add` and `task show` print it: which of its dependencies are not done comes from reading them. */
async function printTask(c: Coordinator, t: Task): Promise<void> {
  const unfinished = await unfinishedDependencies(c, [t], []);
  process.stdout.write(showTask(t, unfinished.get(t.id)));
}

function taskId(value: string | undefined, usage: string): number {
  return integer('task id', required('<id>', value, usage), { min: 1 })!;
}

/** `2030-01-01T10:00:00Z` or `+90` (seconds from now) to milliseconds since the epoch. */
function runAt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith('+')) {
    const ms = millis('--run-at', value.slice(1));
    return Date.now() + ms!;
  }
  const at = Date.parse(value);
  if (!/\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at)) throw new UsageError(`--run-at must be an ISO time (2030-01-01T10:00:00Z) or +<seconds>, got ${JSON.stringify(value)}`);
  return at;
}

function taskIds(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new UsageError(`${name} must be task ids separated by commas, got ${JSON.stringify(value)}`);
  return parts.map(Number);
}

const addUsage =
  'baton task add <title> [--queue <q>] [--payload <json>] [--priority <n>] [--depends-on <id,id>] [--max-attempts <n>] [--run-at <time|+s>] [--needs-approval] [--db <path>] [--json]';
const add: Action = {
  name: 'add',
  summary: 'add a task to a queue',
  usage: addUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        ...connectOptions,
        queue: { type: 'string' },
        payload: { type: 'string' },
        priority: { type: 'string' },
        'depends-on': { type: 'string' },
        'max-attempts': { type: 'string' },
        'run-at': { type: 'string' },
        'needs-approval': { type: 'boolean' },
      },
      addUsage,
    );
    if (values.help) {
      return printHelp(
        addUsage,
        `Adds a task and prints it (--json: the task).

  --queue <q>          the queue (default "${DEFAULT_QUEUE}")
  --payload <json>     any JSON value the worker needs
  --priority <n>       higher is claimed first (default 0; ${-MAX_PRIORITY} to ${MAX_PRIORITY})
  --depends-on <ids>   comma-separated task ids that must be done first
  --max-attempts <n>   claims before a failing task is dead (default ${DEFAULT_MAX_ATTEMPTS}, at most ${MAX_TASK_ATTEMPTS})
  --run-at <when>      not claimable before this ISO time, or +<seconds> from now
  --needs-approval     not claimable until a person approves it ('baton task approve'; docs/approvals.md)
`,
      );
    }
    const [title] = positionalArgs(positionals, ['title'], addUsage);
    const spec: TaskSpec = { title: title! };
    if (values.queue !== undefined) spec.queue = values.queue;
    if (values.payload !== undefined) spec.payload = jsonOption('--payload', values.payload);
    const priority = integer('--priority', values.priority, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
    if (priority !== undefined) spec.priority = priority;
    const dependsOn = taskIds('--depends-on', values['depends-on']);
    if (dependsOn !== undefined) spec.dependsOn = dependsOn;
    const maxAttempts = integer('--max-attempts', values['max-attempts'], { min: 1, max: MAX_TASK_ATTEMPTS });
    if (maxAttempts !== undefined) spec.maxAttempts = maxAttempts;
    const at = runAt(values['run-at']);
    if (at !== undefined) spec.runAt = at;
    if (values['needs-approval']) spec.needsApproval = true;
    return withCoordinator(values, async (c) => {
      const task = await c.addTask(spec);
      if (values.json) printJson(task);
      else await printTask(c, task);
      return ExitCode.ok;
    });
  },
};

const listUsage = 'baton task list [--queue <q>] [--status <s,s>] [--artifact <sha|path|url|hash>] [--db <path>] [--json]';
const list: Action = {
  name: 'list',
  summary: 'list tasks in claim order',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, queue: { type: 'string' }, status: { type: 'string' }, artifact: { type: 'string' } }, listUsage);
    if (values.help) {
      return printHelp(
        listUsage,
        `Lists tasks (at most ${DEFAULT_LIST_LIMIT}), highest priority first. A task is "waiting" while it is ready
but not claimable yet: dependencies not done or a runAt to come (a WAITING FOR column says which). With
--json, such a task has status "ready" and pendingDeps > 0 or a runAt in the future.

  --queue <q>    only this queue (default: all)
  --status <s>   only these statuses, comma-separated: ${SHOWN_STATES.join(', ')}
  --artifact <a> only tasks that made this artifact: a commit sha (7+ hex digits: its start), a file path, a url or a hash
`,
      );
    }
    positionalArgs(positionals, [], listUsage);
    const filter = values.status === undefined ? undefined : statusFilter(shownStates(values.status));
    return withReader(values, async (c) => {
      const queue = { ...(values.queue === undefined ? {} : { queue: values.queue }), ...(values.artifact === undefined ? {} : { artifact: values.artifact }) };
      // ready and waiting are one state to the engine: when only one is wanted, read all ready tasks and keep those.
      const read = await c.listTasks({ ...queue, ...(filter === undefined ? {} : { status: filter.ask }), ...(filter?.narrowed ? { limit: MAX_LIST_LIMIT } : {}) });
      const tasks = filter === undefined ? read : read.filter(filter.keep).slice(0, DEFAULT_LIST_LIMIT);
      if (values.json) {
        printJson(tasks);
      } else if (tasks.length === 0) {
        process.stdout.write('no tasks\n');
      } else {
        const unfinished = await unfinishedDependencies(c, tasks);
        const now = Date.now();
        // The WAITING FOR column only when a task waits: a queue with none reads as it always did.
        const waits = tasks.some((t) => isWaiting(t, now));
        const rows = tasks.map((t) => [t.id, t.queue, state(shownStatus(t, now)), t.priority, `${t.attempts}/${t.maxAttempts}`, ...(waits ? [waitingFor(t, unfinished.get(t.id), now)] : []), t.title]);
        process.stdout.write(table(['ID', 'QUEUE', 'STATUS', 'PRI', 'TRIES', ...(waits ? ['WAITING FOR'] : []), 'TITLE'], rows));
      }
      return ExitCode.ok;
    });
  },
};

/** --status as given: states the CLI shows, or a usage error naming the one that is not (and the nearest that is). */
function shownStates(value: string): ShownStatus[] {
  const words = value.split(',').map((s) => s.trim());
  const bad = words.find((s) => !(SHOWN_STATES as readonly string[]).includes(s));
  if (bad !== undefined) {
    throw new UsageError(`--status must be one or more of ${SHOWN_STATES.join(', ')}, got ${JSON.stringify(bad)}`, { didYouMean: closest(bad, SHOWN_STATES) });
  }
  return words as ShownStatus[];
}

const showUsage = 'baton task show <id> [--db <path>] [--json]';
const show: Action = {
  name: 'show',
  summary: 'show one task',
  usage: showUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, showUsage);
    if (values.help) return printHelp(showUsage, 'Shows every field of task <id>; for a waiting task, which of its dependencies are not done yet and their states.\n');
    const [id] = positionalArgs(positionals, ['id'], showUsage);
    const taskIdValue = taskId(id, showUsage);
    return withReader(values, async (c) => {
      const task = await c.getTask(taskIdValue);
      if (values.json) printJson(task);
      else await printTask(c, task);
      if (!values.json) process.stdout.write(artifactLines(task));
      return ExitCode.ok;
    });
  },
};

const claimUsage = 'baton task claim [--queue <q>] [--n <k>] [--lease <s>] [--session <id> | --name <agent>] [--db <path>] [--json]';
const claim: Action = {
  name: 'claim',
  summary: 'claim the next ready tasks',
  usage: claimUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, queue: { type: 'string' }, n: { type: 'string' }, lease: { type: 'string' }, session: { type: 'string' }, name: { type: 'string' } },
      claimUsage,
    );
    if (values.help) {
      return printHelp(
        claimUsage,
        `Claims up to --n ready tasks (highest priority first) and prints each with its claim token, which
'task renew|complete|fail|release' need. Prints nothing claimed (--json: []) if none is ready; exit 0 either way.

  --queue <q>       the queue (default "${DEFAULT_QUEUE}")
  --n <k>           how many tasks at most (default 1, at most ${MAX_BATCH})
  --lease <s>       claim time in seconds; renew before it lapses (default ${DEFAULT_CLAIM_MS / 1000})
  --session <id>    claim for this live session (see 'baton agents'); baton never ends it
  --name <agent>    claim for the live session of this name, or register one (kind "cli") that later
                    claims with the same --name reuse: one agent in 'baton agents'. It lapses once no
                    claim or renew has heartbeated it for the first claim's --lease.

A claim belongs to a session; ending the session puts its claimed tasks back. With neither option,
a session named "${ANONYMOUS}" is registered for this claim (its id is printed, and is the tasks' claimedBy).
It lives as long as the claim ('task renew' keeps it alive) and is ended when the last of its tasks is
completed, failed or released with 'baton task'.
`,
      );
    }
    positionalArgs(positionals, [], claimUsage);
    const n = integer('--n', values.n, { min: 1, max: MAX_BATCH });
    const leaseMs = millis('--lease', values.lease, true);
    if (values.session === '') throw new UsageError('--session must name a session id, got ""');
    if (values.name === '') throw new UsageError('--name must name an agent, got ""');
    return withCoordinator(values, async (c) => {
      const session = await claimSession(c, { session: values.session, name: values.name, leaseMs });
      let claims: Claim[];
      try {
        claims = await c.claim(session.id, { ...(values.queue === undefined ? {} : { queue: values.queue }), ...(n === undefined ? {} : { n }), ...(leaseMs === undefined ? {} : { leaseMs }) });
      } catch (error) {
        if (session.made) await c.endSession(session.id, { reason: 'claim failed' }).catch(() => undefined);
        throw error;
      }
      if (claims.length === 0 && session.made) await c.endSession(session.id, { reason: 'nothing to claim' });
      if (claims.length > 0 && session.warning !== undefined) process.stderr.write(warningLine(session.warning));
      if (values.json) {
        printJson(claims);
      } else if (claims.length === 0) {
        const queue = values.queue ?? DEFAULT_QUEUE;
        process.stdout.write(`nothing to claim in queue ${JSON.stringify(queue)}${await waitingNote(c, queue)}\n`);
      } else {
        process.stdout.write(
          `session: ${session.id}${session.name === ANONYMOUS && session.own ? '' : ` (${session.name})`}\n` +
            table(['TASK', 'TOKEN', 'EXPIRES', 'TITLE'], claims.map((cl) => [cl.task.id, cl.token, when(cl.expiresAt), cl.task.title])),
        );
      }
      return ExitCode.ok;
    });
  },
};

const renewUsage = 'baton task renew <id> --token <n> [--lease <s>] [--db <path>] [--json]';
const renew: Action = {
  name: 'renew',
  summary: 'extend a claim',
  usage: renewUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, token: { type: 'string' }, lease: { type: 'string' } }, renewUsage);
    if (values.help) {
      return printHelp(
        renewUsage,
        `Extends the claim on task <id> to --lease from now. If 'task claim' registered the claim's session
(no --session), it is heartbeated too; it lives for the first claim's time from now, so a longer --lease
than that does not help (use a session of your own for long work).

  --token <n>   the claim token
  --lease <s>   claim time in seconds from now (default ${DEFAULT_CLAIM_MS / 1000})
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], renewUsage);
    const taskIdValue = taskId(id, renewUsage);
    const token = required('--token', integer('--token', values.token, { min: 1 }), renewUsage);
    const leaseMs = millis('--lease', values.lease, true);
    return withCoordinator(values, async (c) => {
      const renewed = await c.renewClaim({ taskId: taskIdValue, token }, leaseMs === undefined ? {} : { leaseMs });
      const session = await claimSessionOf(c, renewed.task.claimedBy);
      if (session !== undefined) {
        await c.heartbeat(session.id);
        if ((leaseMs ?? DEFAULT_CLAIM_MS) > session.ttlMs) {
          process.stderr.write(warningLine(`the ${session.name} session ${session.id} lapses ${duration(session.ttlMs)} from now, and the claim with it`));
        }
      }
      if (values.json) printJson(renewed);
      else process.stdout.write(fields([['task', renewed.task.id], ['token', renewed.token], ['expiresAt', when(renewed.expiresAt)]]));
      return ExitCode.ok;
    });
  },
};

/**
 * complete, fail and release: an action on a claim, printing the task after.
 * `check` reads its own options before the database is opened. A session the
 * claim made for itself ends with its last claim (task-session.ts).
 */
function claimAction<A>(
  name: string,
  summary: string,
  usage: string,
  help: string,
  extra: Record<string, { type: 'string'; multiple?: boolean }>,
  check: (values: Record<string, string | undefined>) => A,
  act: (c: Coordinator, ref: { taskId: number; token: number }, args: A) => Promise<Task>,
  describe: (task: Task) => string,
): Action {
  return {
    name,
    summary,
    usage,
    async run(argv) {
      const { values, positionals } = parse(argv, { ...connectOptions, token: { type: 'string' }, ...extra }, usage);
      if (values.help) return printHelp(usage, help);
      const strings = values as Record<string, string | undefined>;
      const [id] = positionalArgs(positionals, ['id'], usage);
      const ref = { taskId: taskId(id, usage), token: required('--token', integer('--token', strings.token, { min: 1 }), usage) };
      const args = check(strings);
      return withCoordinator(strings, async (c) => {
        // The claim's session, read first: the task forgets it once the claim is settled.
        const { claimedBy } = await c.getTask(ref.taskId);
        const task = await act(c, ref, args);
        // The task is settled whatever happens to the session: a failure to end it is only a warning.
        await endIfSettled(c, claimedBy).catch((error: unknown) => process.stderr.write(warningLine(`session ${claimedBy} was not ended: ${(error as Error).message}`)));
        if (values.json) printJson(task);
        else process.stdout.write(`task ${task.id}: ${describe(task)}\n`);
        return ExitCode.ok;
      });
    },
  };
}

const completeUsage = 'baton task complete <id> --token <n> [--result <json>] [--artifact <kind>:<value>]... [--db <path>] [--json]';
const complete = claimAction(
  'complete',
  'mark a claimed task done',
  completeUsage,
  `Marks task <id> done; its dependents may run. A second complete, or one with an old token, is refused (STALE_TOKEN).\n\n  --token <n>       the claim token\n  --result <json>   any JSON value to keep with the task\n${artifactHelp}`,
  { result: { type: 'string' }, ...artifactOptions },
  (values) => ({ result: jsonOption('--result', values.result), artifacts: parseArtifacts(values.artifact as unknown as string[] | undefined) }),
  (c, ref, { result, artifacts }) => c.complete(ref, result, artifacts === undefined ? {} : { artifacts }),
  () => 'done',
);

const failUsage = 'baton task fail <id> --token <n> --error <text> [--retry-in <s>] [--db <path>] [--json]';
const fail = claimAction(
  'fail',
  'record a failed attempt (retried later, or dead)',
  failUsage,
  `Records a failed attempt of task <id>: it is retried after a backoff, or is dead after its last attempt.\n\n  --token <n>      the claim token\n  --error <text>   what went wrong\n  --retry-in <s>   retry after this many seconds instead of the backoff\n`,
  { error: { type: 'string' }, 'retry-in': { type: 'string' } },
  (values) => ({ error: required('--error', values.error, failUsage), retryInMs: millis('--retry-in', values['retry-in']) }),
  (c, ref, { error, retryInMs }) => c.fail(ref, error, retryInMs === undefined ? {} : { retryInMs }),
  (t) => (t.status === 'dead' ? `dead after ${t.attempts} attempts` : `failed attempt ${t.attempts} of ${t.maxAttempts}; retry at ${when(t.runAt)}`),
);

const releaseUsage = 'baton task release <id> --token <n> [--db <path>] [--json]';
const release = claimAction(
  'release',
  'give a claimed task back, ready again',
  releaseUsage,
  `Gives task <id> back to its queue without counting a failure.\n\n  --token <n>   the claim token\n`,
  {},
  () => undefined,
  (c, ref) => c.releaseClaim(ref),
  (t) => `released, ${t.status} again`,
);

const cancelUsage = 'baton task cancel <id> [--reason <r>] [--db <path>] [--json]';
const cancel: Action = {
  name: 'cancel',
  summary: 'cancel a task (its dependents become blocked)',
  usage: cancelUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, reason: { type: 'string' } }, cancelUsage);
    if (values.help) return printHelp(cancelUsage, `Cancels task <id>, claimed or not; tasks that depend on it become blocked. A done task cannot be cancelled.\n\n  --reason <r>   why (default "cancelled")\n`);
    const [id] = positionalArgs(positionals, ['id'], cancelUsage);
    const taskIdValue = taskId(id, cancelUsage);
    return withCoordinator(values, async (c) => {
      const task = await c.cancel(taskIdValue, { by: localActor(), ...(values.reason === undefined ? {} : { reason: values.reason }) });
      if (values.json) printJson(task);
      else process.stdout.write(`task ${task.id}: cancelled (${task.reason ?? 'cancelled'})\n`);
      return ExitCode.ok;
    });
  },
};

export const taskCommand = group('task', 'the task queue (add, claim, complete, fail, ...)', [add, list, show, claim, renew, complete, fail, release, cancel, approveAction, rejectAction, policyAction]);
