// The page: header (daemon, store, seq, connection) with the toolbar, the
// attention bar, the view tabs, the view named by ?view=, and the action
// toasts. The keyboard shortcuts are wired here, to the same handlers the
// toolbar's buttons call.
import { useCallback, useState, type ReactNode } from 'react';
import { useBatonActions, useProtocol } from '../../src/react/index.ts';
import { ActionsProvider, useActions } from './actions.tsx';
import { AgentsView } from './AgentsView.tsx';
import { AttentionBar } from './AttentionBar.tsx';
import { BudgetsView } from './BudgetsView.tsx';
import { BurnTracker } from './burn.ts';
import { Header } from './Header.tsx';
import { HoldersView } from './HoldersView.tsx';
import { useShortcuts } from './keyboard.ts';
import { QueueView } from './QueueView.tsx';
import { selectedOrFirst } from './row-nav.ts';
import { ShortcutSheet } from './ShortcutSheet.tsx';
import { TimelineView } from './TimelineView.tsx';
import { Toasts } from './Toasts.tsx';
import { Toolbar } from './Toolbar.tsx';
import { Trackers } from './trackers.ts';
import { currentParams, followLink, searchWith, setParams, useParams } from './url-state.ts';

const VIEWS = [
  { id: 'holders', label: 'Holders', View: HoldersView },
  { id: 'queue', label: 'Queue', View: QueueView },
  { id: 'agents', label: 'Agents', View: AgentsView },
  { id: 'budgets', label: 'Budgets & limits', View: BudgetsView },
  { id: 'timeline', label: 'Timeline', View: TimelineView },
] as const;

function Nav({ current }: { current: string }): ReactNode {
  const leases = useProtocol((s) => s.leases.length);
  const counts = useProtocol((s) => s.taskCounts);
  const sessions = useProtocol((s) => s.sessions.length);
  const badge: Record<string, string> = { holders: String(leases), queue: String((counts['ready'] ?? 0) + (counts['claimed'] ?? 0)), agents: String(sessions) };
  return (
    <nav className="tabs" aria-label="Views" data-testid="nav">
      {VIEWS.map((v) => (
        <a key={v.id} href={searchWith({ view: v.id }, true)} aria-current={v.id === current ? 'page' : undefined} data-testid={`nav-${v.id}`} onClick={(e) => followLink(e, { view: v.id })}>
          {v.label}
          {badge[v.id] !== undefined ? <span className="count"> {badge[v.id]}</span> : null}
        </a>
      ))}
    </nav>
  );
}

function Page(): ReactNode {
  const params = useParams();
  const { pause, resume, sync } = useBatonActions();
  const { undo } = useActions();
  const paused = useProtocol((s) => s.paused);
  const [help, setHelp] = useState(false);
  const [syncing, setSyncing] = useState(false);
  const current = VIEWS.find((v) => v.id === params.view) ?? VIEWS[0];

  const togglePause = useCallback(() => (paused ? resume() : pause()), [paused, pause, resume]);
  const syncNow = useCallback(() => {
    setSyncing(true);
    sync().finally(() => setSyncing(false));
  }, [sync]);
  const details = useCallback(() => {
    if (currentParams().details === '1') return setParams({ details: null });
    selectedOrFirst();
    setParams({ details: 1 });
  }, []);
  const escape = useCallback(() => {
    if (currentParams().details === '1') setParams({ details: null });
  }, []);

  useShortcuts({ togglePause, sync: syncNow, details, undo: () => undo(), help: () => setHelp(true), escape });

  return (
    <div className="app" data-testid="app" data-view={current.id}>
      <Trackers />
      <BurnTracker />
      <Header>
        <Toolbar togglePause={togglePause} sync={syncNow} syncing={syncing} details={details} detailsOpen={params.details === '1'} help={() => setHelp(true)} />
      </Header>
      <AttentionBar />
      <Nav current={current.id} />
      <main className="main" id="main">
        <current.View key={current.id} />
      </main>
      <footer className="footer">
        <Toasts />
      </footer>
      {help ? <ShortcutSheet onClose={() => setHelp(false)} /> : null}
    </div>
  );
}

export function App(): ReactNode {
  return (
    <ActionsProvider>
      <Page />
    </ActionsProvider>
  );
}
