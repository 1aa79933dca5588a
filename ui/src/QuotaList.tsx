// Quotas beside the budgets (docs/quotas.md): each quota's project-wide limit,
// then the agents or sessions using it the most, each as used of its limit.
import { useMemo, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { quotaLines, type QuotaLine } from '../../src/project/quota-rows.ts';
import { Meter } from './common.tsx';
import { count } from './format.ts';
import { VirtualList, type Column } from './VirtualList.tsx';

const atLimit = (l: QuotaLine): boolean => l.used !== null && l.limit !== null && l.used >= l.limit;

const columns: Column<QuotaLine>[] = [
  { id: 'quota', title: 'Quota', width: 'minmax(10rem, 1fr)', render: (l) => <span className="mono">{l.quota}</span> },
  { id: 'who', title: 'For', width: 'minmax(10rem, 1.5fr)', render: (l) => l.who },
  {
    id: 'used',
    title: 'Used of limit',
    width: 'minmax(12rem, 1.5fr)',
    render: (l) =>
      l.limit === null ? (
        <span className="muted">{l.used === null ? 'no limit' : `${count(l.used)}, no limit`}</span>
      ) : l.used === null ? (
        `${count(l.limit)} each`
      ) : (
        <Meter value={l.used} max={l.limit} warn={atLimit(l)} label={`${count(l.used)} of ${count(l.limit)}`} />
      ),
  },
];

export function QuotaList({ selected, onSelect }: { selected: string | null; onSelect(key: string): void }): ReactNode {
  const quotas = useProtocol((s) => s.quotas);
  const lines = useMemo(() => quotaLines(quotas), [quotas]);
  const set = quotas.filter((q) => q.limit !== null || q.agents.length > 0).length;
  return (
    <>
      <h3 className="list-title">Quotas ({set} set)</h3>
      <VirtualList label="Quotas" testid="quota-list" rowTestid="quota-row" rows={lines} rowKey={(l) => l.id} columns={columns} selected={selected} onSelect={onSelect} empty="No quota is set." rowClass={(l) => (atLimit(l) ? 'row-warn' : undefined)} />
    </>
  );
}
