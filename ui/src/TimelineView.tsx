// The timeline: the live tail of events (the newest 5,000 the page keeps),
// filterable, pausable, and linkable: ?view=timeline&seq=123 selects event 123
// and scrolls to it; an event older than those kept is read from the daemon's
// log and shown in the details panel. At the bottom the list follows new events;
// scrolled up or with an event selected it stays put.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useBatonActions, useProtocol } from '../../src/react/index.ts';
import { DetailsPanel, Facts, FilterField, Json, useViewState } from './common.tsx';
import { clockTime, count, dateTime } from './format.ts';
import { useRowNavigation } from './row-nav.ts';
import type { BatonEvent } from './types.ts';
import { followLink, searchWith, setParams } from './url-state.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

/** Lower-cased text of an event to match the filter against, computed once per event. */
const haystacks = new WeakMap<BatonEvent, string>();
function haystack(e: BatonEvent): string {
  let text = haystacks.get(e);
  if (text === undefined) {
    text = `#${e.seq}\n${e.type}\n${e.key ?? ''}\n${e.actor ?? ''}\n${JSON.stringify(e.data)}`.toLowerCase();
    haystacks.set(e, text);
  }
  return text;
}

function compact(data: Record<string, unknown>): string {
  const text = JSON.stringify(data);
  return text === '{}' ? '' : text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** An event by seq from the daemon's log, for a deep link older than the events kept. */
function useLoggedEvent(seq: number | null, kept: boolean): BatonEvent | null | undefined {
  const { call } = useBatonActions();
  const [found, setFound] = useState<{ seq: number; event: BatonEvent | null } | null>(null);
  useEffect(() => {
    if (seq === null || kept || found?.seq === seq) return;
    let cancelled = false;
    call<BatonEvent[]>('events', { after: Math.max(0, seq - 1), limit: 1 }).then(
      (list) => !cancelled && setFound({ seq, event: list[0]?.seq === seq ? list[0] : null }),
      () => !cancelled && setFound({ seq, event: null }),
    );
    return () => {
      cancelled = true;
    };
  }, [call, seq, kept, found?.seq]);
  return seq === null || found?.seq !== seq ? undefined : found.event;
}

export function TimelineView(): ReactNode {
  const events = useProtocol((s) => s.events);
  const sessions = useProtocol((s) => s.sessions);
  // Task and lease events name a session id as their actor: show the agent's name beside it.
  const names = useMemo(() => new Map(sessions.map((s) => [s.id, s.name])), [sessions]);
  const paused = useProtocol((s) => s.paused);
  const view = useViewState();
  const seqParam = view.params.seq ?? null;
  const seq = seqParam === null || !/^\d+$/.test(seqParam) ? null : Number(seqParam);
  const q = view.q.trim().toLowerCase();

  const rows = useMemo(() => (q === '' ? events : events.filter((e) => haystack(e).includes(q))), [events, q]);
  const keys = useMemo(() => rows.map((e) => String(e.seq)), [rows]);
  const select = useCallback((key: string) => setParams({ seq: key }), []);
  const open = useCallback((key: string) => setParams({ seq: key, details: 1 }), []);
  useRowNavigation(keys, seqParam, select);

  const kept = seq !== null && events.length > 0 && seq >= events[0]!.seq;
  const inBuffer = seq === null ? undefined : events.find((e) => e.seq === seq);
  const logged = useLoggedEvent(seq, kept);
  const selected = inBuffer ?? logged ?? undefined;
  const showDetails = view.details || (seq !== null && !kept);

  // Stable between renders (it changes with the sessions only): rows that merely move keep their cells.
  const columns = useMemo((): Column<BatonEvent>[] => [
    {
      id: 'seq',
      title: 'Seq',
      width: '6rem',
      className: 'num',
      render: (e) => (
        <a href={searchWith({ view: 'timeline', seq: e.seq }, true)} onClick={(ev) => followLink(ev, { view: 'timeline', seq: e.seq }, false)} aria-label={`Link to event ${e.seq}`} title="A link to this event">
          #{e.seq}
        </a>
      ),
    },
    { id: 'at', title: 'Time', width: '6rem', render: (e) => <time dateTime={new Date(e.at).toISOString()}>{clockTime(e.at)}</time> },
    { id: 'type', title: 'Type', width: 'minmax(9rem, 1fr)', render: (e) => <span className={`etype ${e.type.split('.')[0]}`}>{e.type}</span> },
    { id: 'key', title: 'Key', width: 'minmax(8rem, 1.2fr)', render: (e) => <span className="mono">{e.key ?? ''}</span> },
    {
      id: 'actor',
      title: 'Actor',
      width: 'minmax(7rem, 1fr)',
      render: (e) => (e.actor !== null && names.has(e.actor) ? <span title={e.actor}>{names.get(e.actor)} <span className="muted">{e.actor.slice(0, 8)}</span></span> : (e.actor ?? '')),
    },
    { id: 'data', title: 'Data', width: 'minmax(12rem, 2.5fr)', render: (e) => <span className="mono muted">{compact(e.data)}</span> },
  ], [names]);

  return (
    <section className="view" aria-labelledby="timeline-title" data-testid="view-timeline">
      <div className="view-head">
        <h2 id="timeline-title">Timeline</h2>
        <p className="summary muted">
          {q === '' ? `${count(events.length)} events kept` : `${count(rows.length)} of ${count(events.length)} events kept match`}
          {events.length > 0 ? ` (#${events[0]!.seq} to #${events.at(-1)!.seq})` : ''}
        </p>
        <FilterField label="Filter" placeholder="type, key, actor, data" value={view.q} />
        {seq !== null ? (
          <button type="button" className="chip" onClick={() => setParams({ seq: null, details: null })} data-testid="follow" title="Clear the selection and follow new events">
            Follow live ↓
          </button>
        ) : null}
      </div>
      {paused ? (
        <p className="banner" data-testid="timeline-paused">
          Paused: new events are held and applied, none lost, when you resume (S or Resume above).
        </p>
      ) : null}
      <div className="view-body">
        <VirtualList label="Events" testid="event-list" rowTestid="event-row" rows={rows} rowKey={(e) => String(e.seq)} columns={columns} selected={seqParam} onSelect={select} onOpen={open} follow empty={q === '' ? 'No event yet: they appear here as they happen.' : 'No event kept matches the filter.'} />
        {showDetails ? (
          <DetailsPanel title={seq === null ? 'Details' : `Event #${seq}`}>
            {seq === null ? (
              'Select an event (↑ ↓ or J K) to see it in full.'
            ) : selected === undefined ? (
              logged === null ? `Event #${seq} is not in the log (pruned, or not written yet).` : 'Reading the log…'
            ) : (
              <>
                {!kept ? <p className="muted">Older than the events this page keeps: read from the daemon's log.</p> : null}
                <Facts
                  rows={[
                    ['Type', selected.type],
                    ['At', dateTime(selected.at)],
                    ['Key', selected.key],
                    ['Actor', selected.actor],
                  ]}
                />
                <h4>Data</h4>
                <Json value={selected.data} />
              </>
            )}
          </DetailsPanel>
        ) : null}
      </div>
    </section>
  );
}
