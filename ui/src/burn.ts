// Burn rate and projected exhaustion of each budget, from how `used` moved over
// the last few minutes this page watched (the store keeps no history of it).
// Sampled from the moment the page opens, whichever view shows, so the
// Budgets view has a rate at once. A period reset (used going down) starts a
// budget's history over. Exhaustion is projected at the current rate, and said
// to fall after the period resets when it would.
import { useEffect } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import type { BudgetStatus } from './types.ts';

const WINDOW_MS = 5 * 60_000;
/** A rate needs history at least this long. */
const MIN_SPAN_MS = 5000;
const DAY_MS = 86_400_000;

interface Sample {
  at: number;
  used: number;
}

export interface Burn {
  /** Tokens per minute over the window; null until the page has watched for MIN_SPAN_MS. */
  perMinute: number | null;
  /** When remaining reaches 0 at this rate; null at no burn. */
  exhaustAt: number | null;
  /** When the period resets (null for 'none'). */
  periodEnd: number | null;
}

/** Scope → samples, oldest first: one when the page first saw the budget, then one per change of `used`. */
const history = new Map<string, Sample[]>();

export function periodEnd(b: BudgetStatus): number | null {
  if (b.period === 'daily') return b.periodStart + DAY_MS;
  if (b.period === 'monthly') {
    const d = new Date(b.periodStart);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return null;
}

export function sampleBudgets(budgets: readonly BudgetStatus[], now: number): void {
  for (const b of budgets) {
    let samples = history.get(b.scope);
    if (samples === undefined) history.set(b.scope, (samples = []));
    const last = samples.at(-1);
    if (last !== undefined && b.used < last.used) samples.length = 0; // reset: a new period
    if (last === undefined || samples.length === 0 || last.used !== b.used) samples.push({ at: now, used: b.used });
    // Keep one sample at or before the window's start: the rate is measured from it.
    while (samples.length > 1 && samples[1]!.at <= now - WINDOW_MS) samples.shift();
  }
  for (const scope of history.keys()) if (!budgets.some((b) => b.scope === scope)) history.delete(scope);
}

export function burnOf(b: BudgetStatus, now: number): Burn {
  const first = history.get(b.scope)?.[0];
  const start = first === undefined ? now : Math.max(first.at, now - WINDOW_MS);
  const span = now - start;
  const perMinute = first === undefined || span < MIN_SPAN_MS ? null : (Math.max(0, b.used - first.used) / span) * 60_000;
  const exhaustAt = perMinute !== null && perMinute > 0 ? now + (Math.max(0, b.remaining) / perMinute) * 60_000 : null;
  return { perMinute, exhaustAt, periodEnd: periodEnd(b) };
}

/** Mounted once with the page: samples every budgets snapshot. */
export function BurnTracker(): null {
  const budgets = useProtocol((s) => s.budgets);
  useEffect(() => sampleBudgets(budgets, Date.now()), [budgets]);
  return null;
}
