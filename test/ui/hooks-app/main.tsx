// A small view built on baton/react the way a user would build one, for
// test/ui/hooks.test.ts. It shows what the test looks for in the DOM, and
// leaves counters on window.hooksTest (renders, handler calls, the store's
// stats) so the test can tell a re-render from a resubscription.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BatonProvider, shallowEqual, storeStats, useBatonActions, useProtocol, useProtocolEvent, type BatonActions, type StoreStats } from '../../../src/react/index.ts';

interface Probe {
  renders: { leases: number; titles: number; ready: number; tasks: number };
  /** Each task event the handler saw, with the render its closure came from. */
  handled: { seq: number; type: string; version: number }[];
  /** Every connection state shown, in order. */
  connections: string[];
  /** The seqs of the events in the snapshot now. */
  seqs: number[];
  /** Re-renders the handler's component (a new closure each time). */
  bump(): void;
  stats(): StoreStats | null;
  actions: BatonActions | null;
}

const probe: Probe = { renders: { leases: 0, titles: 0, ready: 0, tasks: 0 }, handled: [], connections: [], seqs: [], bump: () => {}, stats: () => storeStats(), actions: null };
(window as unknown as { hooksTest: Probe }).hooksTest = probe;

function Connection() {
  const connection = useProtocol((s) => s.connection);
  const seq = useProtocol((s) => s.seq);
  const paused = useProtocol((s) => s.paused);
  const events = useProtocol((s) => s.events);
  const last = events.at(-1);
  useEffect(() => {
    if (probe.connections.at(-1) !== connection) probe.connections.push(connection);
  }, [connection]);
  useEffect(() => {
    probe.seqs = events.map((e) => e.seq);
  }, [events]);
  return (
    <>
      <p id="connection" data-connection={connection} data-seq={seq} data-paused={paused}>
        {connection}
      </p>
      <p id="last-event">{last === undefined ? '' : `${last.type} ${last.key ?? ''}`}</p>
    </>
  );
}

function Leases() {
  const leases = useProtocol((s) => s.leases);
  probe.renders.leases++;
  return (
    <ul id="leases">
      {leases.map((l) => (
        <li key={`${l.key} ${l.token}`} data-key={l.key}>
          {l.key} held by {l.owner}
        </li>
      ))}
    </ul>
  );
}

/** A new array each call, made stable by shallowEqual: re-renders only when a title changes. */
function TaskTitles() {
  const titles = useProtocol((s) => s.tasks.map((t) => t.title), shallowEqual);
  probe.renders.titles++;
  return (
    <ul id="tasks">
      {titles.map((title) => (
        <li key={title}>{title}</li>
      ))}
    </ul>
  );
}

/** The store's own array: the same object until a task changes, even across refetches. */
function TaskCount() {
  const tasks = useProtocol((s) => s.tasks);
  probe.renders.tasks++;
  return <p id="task-count">{tasks.length} tasks</p>;
}

/** A new array each call and no isEqual: re-renders on each new snapshot, and never loops. */
function ReadyCount() {
  const ready = useProtocol((s) => s.tasks.filter((t) => t.status === 'ready'));
  probe.renders.ready++;
  return <p id="ready">{ready.length} ready</p>;
}

/** An inline handler that closes over this render's `version`: a new function every render. */
function TaskEvents() {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    probe.bump = () => setVersion((v) => v + 1);
  }, []);
  useProtocolEvent('task.*', (event) => {
    probe.handled.push({ seq: event.seq, type: event.type, version });
  });
  return (
    <p id="handler" data-version={version}>
      handler {version}
    </p>
  );
}

function Actions() {
  const actions = useBatonActions();
  useEffect(() => {
    probe.actions = actions;
  }, [actions]);
  return null;
}

// Two providers for the same daemon: one store, one stream between them. StrictMode runs effects
// twice in development (a no-op in this production build): the store's grace period absorbs it.
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BatonProvider>
      <Connection />
      <Leases />
      <BatonProvider>
        <TaskTitles />
        <ReadyCount />
        <TaskCount />
        <TaskEvents />
      </BatonProvider>
      <Actions />
    </BatonProvider>
  </StrictMode>,
);
