// Holders: every lease held now, with its holder (the owner, and the session's
// agent, pid and host), fencing token, TTL counting down and its waiters; or
// the path reservations (path:<glob>) as a tree of the repository.
import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { ActionButton, useActions } from './actions.tsx';
import { EXPIRY_WARN_MS, heartbeatHealth, leaseRowKey } from './attention.ts';
import { forceRelease, holderText, Ttl } from './lease-parts.tsx';
import { useNow } from './clock.ts';
import { FilterField, useViewState } from './common.tsx';
import { count, duration } from './format.ts';
import { LeaseDetails } from './LeaseDetails.tsx';
import { leaseInfo, useLeaseInfo } from './lease-info.ts';
import { flattenTree, PathTree } from './PathTree.tsx';
import { useRowNavigation } from './row-nav.ts';
import { PATH_PREFIX, type Lease } from './types.ts';
import { setParams } from './url-state.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

export function HoldersView(): ReactNode {
  const leases = useProtocol((s) => s.leases);
  const sessions = useProtocol((s) => s.sessions);
  const view = useViewState();
  const { enabled } = useActions();
  const now = useNow();
  const tree = view.params.layout === 'tree';

  const byId = useMemo(() => new Map(sessions.map((s) => [s.id, s])), [sessions]);
  const q = view.q.trim().toLowerCase();
  const rows = useMemo(() => {
    const list = q === '' ? [...leases] : leases.filter((l) => `${l.key}\n${l.owner}\n${l.sessionId === null ? '' : (byId.get(l.sessionId)?.name ?? '')}`.toLowerCase().includes(q));
    return list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.token - b.token));
  }, [leases, byId, q]);
  const paths = useMemo(() => rows.filter((l) => l.key.startsWith(PATH_PREFIX)), [rows]);

  const [visible, setVisible] = useState<string[]>([]);
  const visibleKeys = useMemo(() => [...new Set(visible.map((k) => k.slice(0, k.lastIndexOf('#'))))], [visible]);
  useLeaseInfo(visibleKeys);

  const treeRows = useMemo(() => (tree ? flattenTree(paths) : []), [tree, paths]);
  const keys = useMemo(() => (tree ? treeRows.map((r) => r.id) : rows.map(leaseRowKey)), [tree, treeRows, rows]);
  // ?sel= names a hold (key#token) or, in a hand-written link, just a key: its first hold.
  const byKey = view.sel === null || keys.includes(view.sel) ? undefined : rows.find((l) => l.key === view.sel);
  const sel = byKey === undefined ? view.sel : leaseRowKey(byKey);
  useRowNavigation(keys, sel, view.select);
  const onVisible = useCallback((k: string[]) => setVisible(k), []);

  const columns: Column<Lease>[] = [
    { id: 'key', title: 'Key', width: 'minmax(9rem, 2fr)', render: (l) => <span className="mono" title={l.key}>{l.key}</span> },
    { id: 'mode', title: 'Mode', width: '5.5rem', render: (l) => l.mode },
    {
      id: 'holder',
      title: 'Holder',
      width: 'minmax(9rem, 2fr)',
      render: (l) => {
        const s = l.sessionId === null ? undefined : byId.get(l.sessionId);
        const health = s === undefined ? 'fresh' : heartbeatHealth(s, now);
        return (
          <span className={health === 'silent' ? 'crit' : health === 'late' ? 'warn' : undefined} title={health === 'fresh' ? undefined : 'its session missed heartbeats'}>
            {holderText(l, s)}
            {health === 'fresh' ? '' : ` (${health})`}
          </span>
        );
      },
    },
    { id: 'token', title: 'Token', width: '7.5rem', className: 'num', render: (l) => count(l.token) },
    { id: 'held', title: 'Held for', width: '6rem', render: (l) => duration(now - l.acquiredAt) },
    { id: 'ttl', title: 'TTL', width: '7.5rem', render: (l) => <Ttl lease={l} now={now} /> },
    {
      id: 'waiters',
      title: 'Waiters',
      width: '4.5rem',
      className: 'num',
      render: (l) => {
        const info = leaseInfo.get(l.key);
        return info === undefined ? <span className="muted">…</span> : count(info.waiters.length);
      },
    },
  ];
  if (enabled) columns.push({ id: 'actions', title: 'Actions', width: '5.5rem', render: (l) => <ActionButton make={() => forceRelease(l)} label="Release" compact /> });

  const selectedLease = sel === null ? undefined : leases.find((l) => leaseRowKey(l) === sel);
  const keyCount = new Set(leases.map((l) => l.key)).size;

  return (
    <section className="view" aria-labelledby="holders-title" data-testid="view-holders">
      <div className="view-head">
        <h2 id="holders-title">Holders</h2>
        <p className="summary" data-testid="holders-summary">
          {count(leases.length)} {leases.length === 1 ? 'hold' : 'holds'} on {count(keyCount)} {keyCount === 1 ? 'key' : 'keys'}, {count(leases.filter((l) => l.key.startsWith(PATH_PREFIX)).length)} path reservations
        </p>
        <FilterField label="Filter" placeholder="key, owner or agent" value={view.q} />
        <div className="segmented" role="group" aria-label="Layout">
          <button type="button" aria-pressed={!tree} onClick={() => setParams({ layout: null })} data-testid="layout-list">
            All leases
          </button>
          <button type="button" aria-pressed={tree} onClick={() => setParams({ layout: 'tree' })} data-testid="layout-tree">
            Path tree
          </button>
        </div>
      </div>
      <div className="view-body">
        {tree ? (
          <PathTree rows={treeRows} sessions={byId} now={now} selected={sel} onSelect={view.select} onOpen={view.open} />
        ) : (
          <VirtualList
            label="Leases"
            testid="lease-list"
            rowTestid="lease-row"
            rows={rows}
            rowKey={leaseRowKey}
            columns={columns}
            selected={sel}
            onSelect={view.select}
            onOpen={view.open}
            onVisible={onVisible}
            rowClass={(l) => (l.expiresAt !== null && l.expiresAt - now < EXPIRY_WARN_MS ? 'row-warn' : undefined)}
            empty={q === '' ? 'No lease is held.' : 'No lease matches the filter.'}
          />
        )}
        {view.details ? <LeaseDetails lease={selectedLease} rowKey={sel} sessions={byId} now={now} /> : null}
      </div>
    </section>
  );
}
