// baton status: one screen with the daemon, sessions, leases, tasks by state,
// budgets and rate limits, through the daemon or from the embedded store.
import { RemoteCoordinator } from '../client/remote.ts';
import { readLock } from '../files/lock/lock.ts';
import { statePaths } from '../project/state-dir.ts';
import { TASK_STATES } from '../limits.ts';
import { collectStatus, type ProjectStatus } from '../project/status.ts';
import { budgetState } from './budget.ts';
import { quotaTable } from './quota.ts';
import { ExitCode, parse, positionalArgs, type Command } from './command.ts';
import { ago, duration, printJson, table } from './output.ts';
import { connectOptions, printHelp, withReader, type Source } from './connect.ts';
import { stateDirOption } from './state-dir.ts';
import { recentViolations, renderViolations, type RecentViolations } from './violations-status.ts';

const usage = 'baton status [--no-daemon] [--state-dir <dir>] [--db <path>] [--json]';

/**
 * The daemon of this state directory when one holds its lock (alive, by the
 * lock's proof, not a reused pid) but did not answer: stopped (SIGSTOP) or
 * hung. Said, so an embedded read is not taken for the whole story.
 */
async function silentDaemon(stateDir: string): Promise<number | undefined> {
  const lock = await readLock(statePaths(stateDir).daemonLock);
  return lock.state === 'held' ? lock.holders.find((h) => !h.verdict.stale)?.record.pid : undefined;
}

function render(s: ProjectStatus, source: Source, silent: number | undefined, violations: RecentViolations): string {
  const now = s.at;
  const out: string[] = [];
  if (silent !== undefined) out.push(`daemon: pid ${silent} holds the daemon lock but did not answer (stopped or hung? 'kill -CONT ${silent}', or 'kill ${silent}'); below, read from ${source.kind === 'none' ? 'no state' : `the embedded store ${source.where}`}`);
  else if (source.kind === 'none') out.push(`daemon: none; no state yet (nothing at ${source.where}: the first command that writes makes it)`);
  else if (s.daemon === null) out.push(`daemon: none (embedded store ${source.where})`);
  else {
    const d = s.daemon;
    out.push(
      `daemon: pid ${d.pid}, up ${duration(now - d.startedAt)}, ${[d.socket, d.listen === null ? null : `tcp ${d.listen}`].filter(Boolean).join(' and ')}`,
      `        ${d.connections} connection${d.connections === 1 ? '' : 's'}, ${d.writer.operations} writes in ${d.writer.batches} commits, queue ${d.writer.queued}/${d.writer.maxQueue}, rss ${Math.round(d.rssBytes / 1048576)} MB, durability ${d.durability}`,
      `        store ${d.store.kind} ${d.store.where}, node ${d.node.id} (sessions end ${duration(d.node.ttlMs)} after it stops)`,
    );
    // The checks of GET /readyz (a daemon from before them has none).
    const checks = d.readiness ?? [];
    const failed = checks.filter((c) => !c.ok);
    if (checks.length > 0) {
      out.push(failed.length === 0 ? `        ready (${checks.map((c) => c.name).join(', ')} ok)` : `        NOT READY: ${failed.map((c) => `${c.name} failed: ${c.message}`).join('; ')}`);
    }
  }
  out.push('');
  out.push(`sessions (${s.sessions.length})`);
  if (s.sessions.length > 0) out.push(table(['ID', 'NAME', 'KIND', 'HOST', 'PID', 'AGE', 'HEARTBEAT'], s.sessions.map((x) => [x.id, x.name, x.kind, x.host, x.pid, duration(now - x.startedAt), ago(x.heartbeatAt, now)])).trimEnd());
  out.push('');
  out.push(`leases (${s.leases.length})`);
  if (s.leases.length > 0) {
    out.push(table(['KEY', 'MODE', 'OWNER', 'TOKEN', 'AGE', 'TTL'], s.leases.map((l) => [l.key, l.mode, l.owner, l.token, duration(now - l.acquiredAt), l.expiresAt === null ? 'session' : `${duration(l.expiresAt - now)} left`])).trimEnd());
  }
  out.push('');
  out.push(`tasks: ${TASK_STATES.map((state) => `${s.tasks[state]} ${state}`).join(', ')}`);
  out.push('');
  out.push(`budgets (${s.budgets.length})`);
  if (s.budgets.length > 0) {
    out.push(table(['SCOPE', 'PERIOD', 'USED', 'RESERVED', 'LIMIT', 'STATE'], s.budgets.map((b) => [b.scope, b.period, b.used, b.reserved, b.limit, budgetState(b)])).trimEnd());
  }
  out.push('');
  const quotasSet = (s.quotas ?? []).filter((q) => q.limit !== null || q.agents.length > 0);
  out.push(`quotas (${quotasSet.length} set)`);
  if (quotasSet.length > 0) out.push(quotaTable(quotasSet).trimEnd());
  out.push('');
  out.push(`rate limits (${s.rateLimits.length})`);
  if (s.rateLimits.length > 0) out.push(table(['KEY', 'RATE/S', 'BURST', 'AVAILABLE'], s.rateLimits.map((r) => [r.key, r.rate, r.burst, Math.floor(r.available * 100) / 100])).trimEnd());
  out.push('', ...renderViolations(violations, now));
  return `${out.join('\n')}\n`;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'one screen: daemon, sessions, leases, tasks by state, budgets, quotas, rate limits, reservation violations',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, usage);
    if (values.help) {
      return printHelp(usage, "Shows the state of the project's coordination: through its daemon when one runs, else from the embedded\nstore. It starts no daemon and creates nothing: with no state yet, it says so.\n");
    }
    positionalArgs(positionals, [], usage);
    return withReader(values, async (c, source) => {
      const status = c instanceof RemoteCoordinator ? await c.status() : await collectStatus(c);
      const silent = source.kind === 'daemon' || values.db !== undefined ? undefined : await silentDaemon(stateDirOption(values['state-dir']).path);
      const violations = await recentViolations(c, status.lastEventSeq);
      if (values.json) printJson({ ...status, violations, ...(silent === undefined ? {} : { silentDaemon: { pid: silent } }) });
      else process.stdout.write(render(status, source, silent, violations));
      return ExitCode.ok;
    });
  },
};
