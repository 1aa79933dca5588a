// Path reservations (leases on path:<glob>) as a tree of the repository: each
// glob split at "/", directories first, so who holds what part of the tree
// reads at a glance. Flattened into rows (depth, name) for the virtual list.
import type { ReactNode } from 'react';
import { ActionButton, useActions } from './actions.tsx';
import { leaseRowKey } from './attention.ts';
import { count, plural } from './format.ts';
import { forceRelease, holderText, Ttl } from './lease-parts.tsx';
import { PATH_PREFIX, type Lease, type Session } from './types.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

export interface TreeRow {
  id: string;
  depth: number;
  name: string;
  lease: Lease | null;
  /** Reservations at or below a directory. */
  below: number;
}

interface Dir {
  dirs: Map<string, Dir>;
  leaves: Array<{ name: string; lease: Lease }>;
  below: number;
}

const newDir = (): Dir => ({ dirs: new Map(), leaves: [], below: 0 });

export function flattenTree(leases: readonly Lease[]): TreeRow[] {
  const root = newDir();
  for (const lease of leases) {
    const parts = lease.key.slice(PATH_PREFIX.length).split('/').filter((p) => p !== '' && p !== '.');
    const leaf = parts.pop() ?? '.';
    let dir = root;
    dir.below++;
    for (const part of parts) {
      let next = dir.dirs.get(part);
      if (next === undefined) dir.dirs.set(part, (next = newDir()));
      dir = next;
      dir.below++;
    }
    dir.leaves.push({ name: leaf, lease });
  }
  const rows: TreeRow[] = [];
  const walk = (dir: Dir, depth: number, path: string): void => {
    for (const [name, sub] of [...dir.dirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const full = `${path}${name}/`;
      rows.push({ id: `dir:${full}`, depth, name: `${name}/`, lease: null, below: sub.below });
      walk(sub, depth + 1, full);
    }
    for (const { name, lease } of dir.leaves.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.lease.token - b.lease.token))) {
      rows.push({ id: leaseRowKey(lease), depth, name, lease, below: 1 });
    }
  };
  walk(root, 0, '');
  return rows;
}

export interface PathTreeProps {
  rows: readonly TreeRow[];
  sessions: ReadonlyMap<string, Session>;
  now: number;
  selected: string | null;
  onSelect(key: string): void;
  onOpen(key: string): void;
}

export function PathTree({ rows, sessions, now, selected, onSelect, onOpen }: PathTreeProps): ReactNode {
  const { enabled } = useActions();
  const columns: Column<TreeRow>[] = [
    {
      id: 'path',
      title: 'Path',
      width: 'minmax(14rem, 2fr)',
      render: (r) => (
        <span className={`tree-name ${r.lease === null ? 'dir' : 'mono'}`} style={{ paddingInlineStart: `${r.depth * 1.25}rem` }} title={r.lease?.key}>
          <span aria-hidden="true">{r.lease === null ? '▾ ' : '• '}</span>
          {r.name}
        </span>
      ),
    },
    {
      id: 'holder',
      title: 'Holder',
      width: 'minmax(12rem, 2fr)',
      render: (r) => (r.lease === null ? <span className="muted">{plural(r.below, 'reservation')} below</span> : holderText(r.lease, r.lease.sessionId === null ? undefined : sessions.get(r.lease.sessionId))),
    },
    { id: 'mode', title: 'Mode', width: '6rem', render: (r) => r.lease?.mode ?? '' },
    { id: 'token', title: 'Token', width: '7.5rem', className: 'num', render: (r) => (r.lease === null ? '' : count(r.lease.token)) },
    { id: 'ttl', title: 'TTL', width: '8rem', render: (r) => (r.lease === null ? '' : <Ttl lease={r.lease} now={now} />) },
  ];
  if (enabled) columns.push({ id: 'actions', title: 'Actions', width: '7rem', render: (r) => (r.lease === null ? null : <ActionButton make={() => forceRelease(r.lease!)} label="Release" compact />) });
  return (
    <VirtualList
      label="Path reservations"
      testid="path-tree"
      rowTestid="path-row"
      rows={rows}
      rowKey={(r) => r.id}
      columns={columns}
      selected={selected}
      onSelect={onSelect}
      onOpen={onOpen}
      empty="No path is reserved."
    />
  );
}
