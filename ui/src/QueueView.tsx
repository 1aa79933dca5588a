// The queue: tasks by state (counts from taskCounts, rows from the newest the
// daemon sends per state), claim age against the deadline, attempts,
// dependencies, failures grouped by error, and a throughput chart. Filters in
// the URL: ?view=queue&state=failed&error=...&queue=builds&q=text.
import { useMemo, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { useActions } from './actions.tsx';
import { useNow } from './clock.ts';
import { FilterField, useViewState } from './common.tsx';
import { errorGroup, FailureGroups, isFailed } from './FailureGroups.tsx';
import { count, firstLine } from './format.ts';
import { useRowNavigation } from './row-nav.ts';
import { ClaimCell, DepsCell, StateCell, TaskActions } from './task-parts.tsx';
import { TaskDetails } from './TaskDetails.tsx';
import { ThroughputChart } from './ThroughputChart.tsx';
import { TASK_STATES, type Task } from './types.ts';
import { setParams } from './url-state.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

const STATE_ORDER = new Map<string, number>(TASK_STATES.map((s, i) => [s, i]));

/** Within a state, the order that matters there: claim order for ready, deadline for claimed, oldest first for blocked and awaiting approval, newest change for the rest. */
function byState(a: Task, b: Task): number {
  if (a.status !== b.status) return STATE_ORDER.get(a.status)! - STATE_ORDER.get(b.status)!;
  if (a.status === 'ready') return b.priority - a.priority || a.position - b.position || a.id - b.id;
  if (a.status === 'claimed') return (a.claimExpiresAt ?? 0) - (b.claimExpiresAt ?? 0) || a.id - b.id;
  if (a.status === 'blocked' || a.status === 'awaiting_approval') return a.id - b.id; // the longest waiting first
  return b.updatedAt - a.updatedAt || b.id - a.id;
}

export function QueueView(): ReactNode {
  const tasks = useProtocol((s) => s.tasks);
  const counts = useProtocol((s) => s.taskCounts);
  const sessions = useProtocol((s) => s.sessions);
  const seq = useProtocol((s) => s.seq);
  const view = useViewState();
  const { enabled } = useActions();
  const now = useNow();
  const state = view.params.state ?? 'all';
  const queue = view.params.queue ?? '';
  const error = view.params.error ?? null;
  const q = view.q.trim().toLowerCase();

  const sessionsById = useMemo(() => new Map(sessions.map((s) => [s.id, s])), [sessions]);
  const queues = useMemo(() => [...new Set(tasks.map((t) => t.queue))].sort(), [tasks]);
  const failedCount = useMemo(() => tasks.filter(isFailed).length, [tasks]);
  const rows = useMemo(() => {
    const list = tasks.filter((t) => {
      if (state === 'failed' ? !isFailed(t) : state !== 'all' && t.status !== state) return false;
      if (queue !== '' && t.queue !== queue) return false;
      if (error !== null && (t.lastError === null || errorGroup(t.lastError) !== error)) return false;
      if (q !== '' && !`#${t.id}\n${t.title}\n${t.lastError ?? ''}\n${t.claimedBy ?? ''}\n${t.queue}`.toLowerCase().includes(q)) return false;
      return true;
    });
    return list.sort(byState);
  }, [tasks, state, queue, error, q]);

  const keys = useMemo(() => rows.map((t) => String(t.id)), [rows]);
  useRowNavigation(keys, view.sel, view.select);

  const columns: Column<Task>[] = [
    { id: 'id', title: 'ID', width: '5rem', className: 'num', render: (t) => `#${t.id}` },
    {
      id: 'title',
      title: 'Title',
      width: 'minmax(12rem, 2fr)',
      render: (t) => (
        <span title={t.title}>
          {t.title} <span className="muted">{t.queue}</span>
        </span>
      ),
    },
    { id: 'state', title: 'State', width: '9rem', render: (t) => <StateCell task={t} now={now} /> },
    { id: 'priority', title: 'Priority', width: '5rem', className: 'num', render: (t) => t.priority },
    { id: 'attempts', title: 'Attempts', width: '6rem', className: 'num', render: (t) => <span className={t.lastError !== null && t.attempts >= 2 ? 'warn' : undefined}>{`${t.attempts} / ${t.maxAttempts}`}</span> },
    { id: 'claim', title: 'Claim (by · age · deadline)', width: 'minmax(14rem, 1.5fr)', render: (t) => <ClaimCell task={t} sessions={sessionsById} now={now} /> },
    { id: 'deps', title: 'Depends on', width: '9rem', render: (t) => <DepsCell task={t} /> },
    { id: 'error', title: 'Last error', width: 'minmax(10rem, 1.5fr)', render: (t) => (t.lastError === null ? '' : <span title={t.lastError}>{firstLine(t.lastError, 120)}</span>) },
  ];
  if (enabled) columns.push({ id: 'actions', title: 'Actions', width: '15rem', render: (t) => <TaskActions task={t} seq={seq} now={now} compact /> });

  const loaded = tasks.length;
  const total = TASK_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const stateButtons: Array<[string, string, number | null]> = [
    ['all', 'All', total],
    ...TASK_STATES.map((s): [string, string, number | null] => [s, s, counts[s] ?? 0]),
    ['failed', 'failed', failedCount],
  ];

  return (
    <section className="view" aria-labelledby="queue-title" data-testid="view-queue">
      <div className="view-head">
        <h2 id="queue-title">Queue</h2>
        <div className="segmented" role="group" aria-label="Task state" data-testid="state-filter">
          {stateButtons.map(([id, label, n]) => (
            <button key={id} type="button" aria-pressed={state === id} data-testid={`state-${id}`} onClick={() => setParams({ state: id === 'all' ? null : id, error: null, sel: null })}>
              {label} <span className="count">{n === null ? '' : count(n)}</span>
            </button>
          ))}
        </div>
        <label className="field inline">
          <span>Queue</span>
          <select value={queue} onChange={(e) => setParams({ queue: e.target.value, sel: null })} data-testid="queue-filter">
            <option value="">all queues</option>
            {queues.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <FilterField label="Filter" placeholder="#id, title, error, session" value={view.q} />
        {error !== null ? (
          <button type="button" className="chip" onClick={() => setParams({ error: null })} data-testid="error-filter" aria-label={`Remove the error filter ${error}`}>
            error: {error} ×
          </button>
        ) : null}
      </div>
      <div className="queue-side">
        <ThroughputChart />
        <FailureGroups tasks={tasks} selected={error} />
      </div>
      <p className="summary muted">
        Showing {count(rows.length)} of the {count(loaded)} tasks loaded ({count(total)} in all; the newest of each state are loaded).
      </p>
      <div className="view-body">
        <VirtualList
          label="Tasks"
          testid="task-list"
          rowTestid="task-row"
          rows={rows}
          rowKey={(t) => String(t.id)}
          columns={columns}
          selected={view.sel}
          onSelect={view.select}
          onOpen={view.open}
          rowClass={(t) => (t.status === 'claimed' && t.claimExpiresAt !== null && t.claimExpiresAt < now ? 'row-crit' : t.status === 'dead' ? 'row-warn' : undefined)}
          empty="No task matches."
        />
        {view.details ? <TaskDetails id={view.sel === null ? null : Number(view.sel)} sessions={sessionsById} seq={seq} now={now} /> : null}
      </div>
    </section>
  );
}
