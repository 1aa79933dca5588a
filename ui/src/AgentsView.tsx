// Agents: every session, with presence (is the session open?) and health (is
// it still heartbeating?) in separate columns: an agent can be registered yet
// silent, which is exactly the zombie a person wants to see and end. Also its
// claims, the leases it holds and its token use (the usage operation).
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useBatonActions, useProtocol, useProtocolEvent } from '../../src/react/index.ts';
import { ActionButton, useActions, type ActionRequest } from './actions.tsx';
import { heartbeatHealth } from './attention.ts';
import { useNow } from './clock.ts';
import { DetailsPanel, Facts, FilterField, useViewState } from './common.tsx';
import { ago, count, dateTime, duration } from './format.ts';
import { useRowNavigation } from './row-nav.ts';
import type { Lease, Session, Task } from './types.ts';
import { followLink, searchWith, setParams } from './url-state.ts';
import { useUsage } from './usage.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

export function endSession(s: Session): ActionRequest {
  return {
    kind: 'end-session',
    title: `End session ${s.name}`,
    description: `Ends ${s.name}'s session (${s.id} on ${s.host}${s.pid === null ? '' : `, pid ${s.pid}`}): its leases are released and its claims requeued, as if it had stopped heartbeating. The process itself is not signalled.`,
    operation: 'endSession',
    body: { sessionId: s.id },
    input: { field: 'reason', label: 'Reason', required: false, initial: 'ended from the dashboard' },
  };
}

/** Ended sessions are not in the live snapshot: fetched when asked for, again on agent events. */
function useEndedSessions(on: boolean): Session[] | null {
  const { call } = useBatonActions();
  const [list, setList] = useState<Session[] | null>(null);
  const [bump, setBump] = useState(0);
  useProtocolEvent('agent.*', () => on && setBump((n) => n + 1));
  useEffect(() => {
    if (!on) return setList(null);
    let cancelled = false;
    const timer = setTimeout(() => {
      call<Session[]>('listSessions', { includeEnded: true }).then((s) => !cancelled && setList(s), () => undefined);
    }, 300); // coalesce a burst of agent events
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [call, on, bump]);
  return list;
}

export function AgentsView(): ReactNode {
  const live = useProtocol((s) => s.sessions);
  const tasks = useProtocol((s) => s.tasks);
  const leases = useProtocol((s) => s.leases);
  const view = useViewState();
  const { enabled } = useActions();
  const now = useNow();
  const usage = useUsage();
  const showEnded = view.params.ended === '1';
  const ended = useEndedSessions(showEnded);
  const sessions = showEnded && ended !== null ? ended : live;

  const claimsBy = useMemo(() => groupBy(tasks.filter((t) => t.status === 'claimed' && t.claimedBy !== null), (t) => t.claimedBy!), [tasks]);
  const leasesBy = useMemo(() => groupBy(leases.filter((l) => l.sessionId !== null), (l) => l.sessionId!), [leases]);
  const tokensBy = useMemo(() => new Map((usage?.byAgent ?? []).map((u) => [u.agent, u.total])), [usage]);
  const q = view.q.trim().toLowerCase();
  const rows = useMemo(
    () => sessions.filter((s) => q === '' || `${s.name}\n${s.kind}\n${s.host}\n${s.id}\n${s.pid ?? ''}`.toLowerCase().includes(q)).sort((a, b) => (a.endedAt === null) === (b.endedAt === null) ? a.name.localeCompare(b.name) || a.startedAt - b.startedAt : a.endedAt === null ? -1 : 1),
    [sessions, q],
  );
  const keys = useMemo(() => rows.map((s) => s.id), [rows]);
  useRowNavigation(keys, view.sel, view.select);

  const columns: Column<Session>[] = [
    { id: 'name', title: 'Agent', width: 'minmax(10rem, 1.5fr)', render: (s) => <span title={s.id}>{s.name} <span className="muted">{s.kind}</span></span> },
    { id: 'where', title: 'Host / pid', width: 'minmax(8rem, 1fr)', render: (s) => `${s.host}${s.pid === null ? '' : ` / ${s.pid}`}` },
    { id: 'presence', title: 'Session', width: '9rem', render: (s) => (s.endedAt === null ? <span className="ok">open {duration(now - s.startedAt)}</span> : <span className="muted" title={s.endReason ?? undefined}>ended {ago(s.endedAt, now)}</span>) },
    {
      id: 'heartbeat',
      title: 'Heartbeat',
      width: '11rem',
      render: (s) => {
        if (s.endedAt !== null) return <span className="muted">—</span>;
        const health = heartbeatHealth(s, now);
        return <span className={health === 'silent' ? 'crit' : health === 'late' ? 'warn' : 'ok'}>{`${ago(s.heartbeatAt, now)} · ${health}`}</span>;
      },
    },
    { id: 'claims', title: 'Claims', width: '5rem', className: 'num', render: (s) => count(claimsBy.get(s.id)?.length ?? 0) },
    { id: 'leases', title: 'Leases', width: '5rem', className: 'num', render: (s) => count(leasesBy.get(s.id)?.length ?? 0) },
    { id: 'tokens', title: 'Tokens used', width: '7rem', className: 'num', render: (s) => (tokensBy.has(s.name) ? count(tokensBy.get(s.name)!) : <span className="muted">—</span>) },
  ];
  if (enabled) columns.push({ id: 'actions', title: 'Actions', width: '6rem', render: (s) => (s.endedAt === null ? <ActionButton make={() => endSession(s)} label="End" compact /> : null) });

  const selected = view.sel === null ? undefined : sessions.find((s) => s.id === view.sel);
  const silent = live.filter((s) => heartbeatHealth(s, now) === 'silent').length;

  return (
    <section className="view" aria-labelledby="agents-title" data-testid="view-agents">
      <div className="view-head">
        <h2 id="agents-title">Agents</h2>
        <p className="summary">
          {count(live.length)} open {live.length === 1 ? 'session' : 'sessions'}
          {silent > 0 ? `, ${silent} silent` : ''}
        </p>
        <FilterField label="Filter" placeholder="name, kind, host, pid" value={view.q} />
        <label className="toggle">
          <input type="checkbox" checked={showEnded} onChange={(e) => setParams({ ended: e.target.checked ? 1 : null })} data-testid="show-ended" />
          Show ended sessions
        </label>
      </div>
      <div className="view-body">
        <VirtualList
          label="Sessions"
          testid="session-list"
          rowTestid="session-row"
          rows={rows}
          rowKey={(s) => s.id}
          columns={columns}
          selected={view.sel}
          onSelect={view.select}
          onOpen={view.open}
          rowClass={(s) => (s.endedAt === null && heartbeatHealth(s, now) === 'silent' ? 'row-crit' : undefined)}
          empty="No session."
        />
        {view.details ? <SessionDetails session={selected} claims={selected === undefined ? [] : (claimsBy.get(selected.id) ?? [])} leases={selected === undefined ? [] : (leasesBy.get(selected.id) ?? [])} tokens={selected === undefined ? undefined : tokensBy.get(selected.name)} now={now} /> : null}
      </div>
    </section>
  );
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return map;
}

function SessionDetails({ session, claims, leases, tokens, now }: { session: Session | undefined; claims: Task[]; leases: Lease[]; tokens: number | undefined; now: number }): ReactNode {
  if (session === undefined) return <DetailsPanel title="Details">Select a session (↑ ↓ or J K) to see its details.</DetailsPanel>;
  return (
    <DetailsPanel title={session.name}>
      <Facts
        rows={[
          ['Session', session.id],
          ['Kind', session.kind],
          ['Host / pid', `${session.host}${session.pid === null ? '' : ` / ${session.pid}`}`],
          ['Started', `${dateTime(session.startedAt)} (${ago(session.startedAt, now)})`],
          ['Last heartbeat', `${ago(session.heartbeatAt, now)} (${heartbeatHealth(session, now)}; it ends after ${duration(session.ttlMs)} without one)`],
          ['Ended', session.endedAt === null ? null : `${dateTime(session.endedAt)}: ${session.endReason ?? ''}`],
          ['Tokens used', tokens === undefined ? null : count(tokens)],
          ['Labels', Object.keys(session.labels).length === 0 ? null : Object.entries(session.labels).map(([k, v]) => `${k}=${v}`).join(', ')],
        ]}
      />
      {session.endedAt === null ? (
        <div className="details-actions">
          <ActionButton make={() => endSession(session)} label="End this session" />
        </div>
      ) : null}
      <h4>Claims ({claims.length})</h4>
      <ul className="plain">
        {claims.map((t) => (
          <li key={t.id}>
            <a href={searchWith({ view: 'queue', sel: t.id, details: 1 }, true)} onClick={(e) => followLink(e, { view: 'queue', sel: t.id, details: 1 })}>
              #{t.id} {t.title}
            </a>
          </li>
        ))}
      </ul>
      <h4>Leases ({leases.length})</h4>
      <ul className="plain">
        {leases.map((l) => (
          <li key={`${l.key}#${l.token}`} className="mono">
            {l.key} (token {l.token})
          </li>
        ))}
      </ul>
    </DetailsPanel>
  );
}
