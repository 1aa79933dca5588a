// Budgets and rate limits: for each token budget, used / reserved / remaining
// of its limit, the burn rate this page measured and when the budget runs out
// at that rate (or that it will not before the period resets); for each rate
// limit, the bucket's rate, burst and tokens available (negative: callers
// queued), and who was throttled in the last minute.
import { useMemo, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { ActionButton, useActions, type ActionRequest } from './actions.tsx';
import { burnOf, type Burn } from './burn.ts';
import { useNow } from './clock.ts';
import { DetailsPanel, Facts, Meter, useViewState } from './common.tsx';
import { count, dateTime, duration, until } from './format.ts';
import { useRowNavigation } from './row-nav.ts';
import { recentThrottles } from './trackers.ts';
import type { BudgetStatus, RateLimitStatus } from './types.ts';
import { QuotaList } from './QuotaList.tsx';
import { VirtualList, type Column } from './VirtualList.tsx';

export function resetBudget(b: BudgetStatus): ActionRequest {
  const scope = { ...(b.agent === null ? {} : { agent: b.agent }), ...(b.model === null ? {} : { model: b.model }) };
  return {
    kind: 'reset-budget',
    title: `Reset budget ${b.scope}`,
    description: `Starts the ${b.period === 'none' ? 'budget' : `${b.period} period`} of ${b.scope} over: its usage so far (${count(b.used)} tokens) stops counting against the limit of ${count(b.limit)}.`,
    operation: 'resetBudget',
    body: { scope },
  };
}

function projection(b: BudgetStatus, burn: Burn | undefined, now: number): string {
  if (b.exceeded || b.remaining <= 0) return 'exhausted';
  if (burn === undefined || burn.perMinute === null) return 'measuring…';
  if (burn.exhaustAt === null) return 'not at this rate';
  if (burn.periodEnd !== null && burn.exhaustAt > burn.periodEnd) return `not before the reset (${until(burn.periodEnd, now)})`;
  return until(burn.exhaustAt, now);
}

const rlKey = (r: RateLimitStatus): string => `rl:${r.key}`;

export function BudgetsView(): ReactNode {
  const budgets = useProtocol((s) => s.budgets);
  const rateLimits = useProtocol((s) => s.rateLimits);
  const view = useViewState();
  const { enabled } = useActions();
  const now = useNow();
  const burns = useMemo(() => new Map(budgets.map((b) => [b.scope, burnOf(b, now)])), [budgets, now]);
  const throttled = useMemo(() => recentThrottles(now - 60_000), [now]);

  const sortedBudgets = useMemo(() => [...budgets].sort((a, b) => a.scope.localeCompare(b.scope)), [budgets]);
  const sortedLimits = useMemo(() => [...rateLimits].sort((a, b) => a.key.localeCompare(b.key)), [rateLimits]);
  const keys = useMemo(() => [...sortedBudgets.map((b) => b.scope), ...sortedLimits.map(rlKey)], [sortedBudgets, sortedLimits]);
  useRowNavigation(keys, view.sel, view.select);

  const budgetColumns: Column<BudgetStatus>[] = [
    { id: 'scope', title: 'Scope', width: 'minmax(10rem, 1.5fr)', render: (b) => <span className="mono">{b.scope}</span> },
    { id: 'period', title: 'Period', width: '7rem', render: (b) => b.period },
    {
      id: 'used',
      title: 'Used + reserved of limit',
      width: 'minmax(14rem, 2fr)',
      render: (b) => <Meter value={b.used + b.reserved} max={b.limit} warn={b.warning || b.exceeded} label={`${count(b.used)} + ${count(b.reserved)} of ${count(b.limit)}`} />,
    },
    { id: 'remaining', title: 'Remaining', width: '7rem', className: 'num', render: (b) => count(b.remaining) },
    { id: 'burn', title: 'Burn / min', width: '7rem', className: 'num', render: (b) => (burns.get(b.scope)?.perMinute == null ? '…' : count(Math.round(burns.get(b.scope)!.perMinute!))) },
    { id: 'exhaust', title: 'Runs out', width: 'minmax(9rem, 1fr)', render: (b) => projection(b, burns.get(b.scope), now) },
    { id: 'state', title: 'State', width: '6rem', render: (b) => (b.exceeded ? <span className="crit">exceeded</span> : b.warning ? <span className="warn">warning</span> : <span className="ok">ok</span>) },
  ];
  if (enabled) budgetColumns.push({ id: 'actions', title: 'Actions', width: '6rem', render: (b) => <ActionButton make={() => resetBudget(b)} label="Reset" compact /> });

  const limitColumns: Column<RateLimitStatus>[] = [
    { id: 'key', title: 'Key', width: 'minmax(10rem, 1.5fr)', render: (r) => <span className="mono">{r.key}</span> },
    { id: 'rate', title: 'Rate / s', width: '6rem', className: 'num', render: (r) => r.rate },
    { id: 'burst', title: 'Burst', width: '6rem', className: 'num', render: (r) => r.burst },
    {
      id: 'available',
      title: 'Available',
      width: 'minmax(12rem, 1.5fr)',
      render: (r) => <Meter value={Math.max(0, r.available)} max={r.burst} warn={r.available < 1} label={r.available < 0 ? `${(-r.available).toFixed(1)} owed by callers in line` : `${r.available.toFixed(1)} of ${r.burst}`} />,
    },
    {
      id: 'throttled',
      title: 'Throttled (last min)',
      width: 'minmax(10rem, 1.5fr)',
      render: (r) => {
        const mine = throttled.filter((t) => t.key === r.key);
        return mine.length === 0 ? <span className="muted">none</span> : <span className="warn">{mine.map((t) => `${t.actor ?? '?'} ×${t.count}`).join(', ')}</span>;
      },
    },
  ];

  const budget = sortedBudgets.find((b) => b.scope === view.sel);
  const limit = sortedLimits.find((r) => rlKey(r) === view.sel);

  return (
    <section className="view" aria-labelledby="budgets-title" data-testid="view-budgets">
      <div className="view-head">
        <h2 id="budgets-title">Budgets and rate limits</h2>
        <p className="summary muted">Burn rates: measured by this page over the last 5 minutes (or since it opened).</p>
      </div>
      <div className="view-body">
        <div className="stack">
          <h3 className="list-title">Token budgets ({budgets.length})</h3>
          <VirtualList label="Token budgets" testid="budget-list" rowTestid="budget-row" rows={sortedBudgets} rowKey={(b) => b.scope} columns={budgetColumns} selected={view.sel} onSelect={view.select} onOpen={view.open} empty="No budget is set." rowClass={(b) => (b.exceeded ? 'row-crit' : b.warning ? 'row-warn' : undefined)} />
          <h3 className="list-title">Rate limits ({rateLimits.length})</h3>
          <VirtualList label="Rate limits" testid="ratelimit-list" rowTestid="ratelimit-row" rows={sortedLimits} rowKey={rlKey} columns={limitColumns} selected={view.sel} onSelect={view.select} onOpen={view.open} empty="No rate limit is set." />
          <QuotaList selected={view.sel} onSelect={view.select} />
        </div>
        {view.details ? (
          <DetailsPanel title={budget?.scope ?? limit?.key ?? 'Details'}>
            {budget !== undefined ? (
              <>
                <Facts
                  rows={[
                    ['Period', `${budget.period}${budget.period === 'none' ? '' : `, since ${dateTime(budget.periodStart)}`}`],
                    ['Resets', burns.get(budget.scope)?.periodEnd == null ? null : until(burns.get(budget.scope)!.periodEnd!, now)],
                    ['Limit', count(budget.limit)],
                    ['Used', count(budget.used)],
                    ['Reserved', count(budget.reserved)],
                    ['Remaining', count(budget.remaining)],
                    ['Burn rate', burns.get(budget.scope)?.perMinute == null ? 'measuring…' : `${count(Math.round(burns.get(budget.scope)!.perMinute!))} tokens/min`],
                    ['Runs out', projection(budget, burns.get(budget.scope), now)],
                  ]}
                />
                <div className="details-actions">
                  <ActionButton make={() => resetBudget(budget)} label="Reset this period" />
                </div>
              </>
            ) : limit !== undefined ? (
              <>
                <Facts rows={[['Rate', `${limit.rate} / s`], ['Burst', String(limit.burst)], ['Available', limit.available.toFixed(2)], ['Refill to full', limit.available >= limit.burst ? 'full' : duration(((limit.burst - limit.available) / limit.rate) * 1000)]]} />
                <h4>Throttled or queued in the last minute</h4>
                <ul className="plain">
                  {throttled
                    .filter((t) => t.key === limit.key)
                    .map((t) => (
                      <li key={`${t.actor}`}>
                        {t.actor ?? 'a caller'}: {t.count}× {t.kind}
                      </li>
                    ))}
                </ul>
              </>
            ) : (
              'Select a budget or a rate limit (↑ ↓ or J K) to see its details.'
            )}
          </DetailsPanel>
        ) : null}
      </div>
    </section>
  );
}
