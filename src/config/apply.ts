// The file's budgets and rate limits, made so on a Coordinator through its own
// operations (setBudget, removeBudget, setRateLimit), as `baton budget set`
// would: each change is an event in the log. Only what differs is written, so
// a reload that changes one budget leaves the others' buckets and periods
// alone.
//
// What the file made is remembered in the state directory
// (config-applied.json): a budget taken out of the file is removed, while one
// made by hand (`baton budget set`) and never named in the file is left alone.
// A budget or limit the file names is the file's: its values win at every
// reload. There is no operation that removes a rate limit, so one taken out of
// the file stays as it is, and the report says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BudgetScope, Coordinator } from '../coordinator.ts';
import { isBatonError } from '../errors.ts';
import { writeJsonAtomic } from '../files/atomic-write.ts';
import type { Effective, WantedBudget } from './effective.ts';

/** What the file made, kept between reloads and restarts. */
interface Made {
  budgets: Record<string, BudgetScope>;
  /** Each budget's warning percent as last set: budgetStatus does not show it. */
  warnPercent: Record<string, number>;
  rateLimits: string[];
}

export interface ApplyReport {
  /** Budgets and limits set or changed, one phrase each ("budget agent=claude: 2000000 daily"). */
  changed: string[];
  removed: string[];
  /** Rate limits no longer in the file, left as they are. */
  left: string[];
}

export function madePath(stateDir: string): string {
  return join(stateDir, 'config-applied.json');
}

function readMade(path: string): Made {
  try {
    const made = JSON.parse(readFileSync(path, 'utf8')) as Partial<Made>;
    return { budgets: made.budgets ?? {}, warnPercent: made.warnPercent ?? {}, rateLimits: made.rateLimits ?? [] };
  } catch {
    // none yet (or unreadable): the file has made nothing we know of
    return { budgets: {}, warnPercent: {}, rateLimits: [] };
  }
}

const scopeId = (scope: { agent?: string | null | undefined; model?: string | null | undefined }): string => JSON.stringify([scope.agent ?? null, scope.model ?? null]);

function scopeText(scope: BudgetScope): string {
  const parts = [scope.agent === undefined ? [] : [`agent=${scope.agent}`], scope.model === undefined ? [] : [`model=${scope.model}`]].flat();
  return parts.length === 0 ? 'budget total' : `budget ${parts.join(' ')}`;
}

function scopeOf(wanted: WantedBudget): BudgetScope {
  return { ...(wanted.agent === undefined ? {} : { agent: wanted.agent }), ...(wanted.model === undefined ? {} : { model: wanted.model }) };
}

export async function applyConfig(coordinator: Coordinator, effective: Effective, stateDir: string): Promise<ApplyReport> {
  const path = madePath(stateDir);
  const made = readMade(path);
  const report: ApplyReport = { changed: [], removed: [], left: [] };

  const live = new Map((await coordinator.budgetStatus()).map((s) => [scopeId(s), s]));
  const wantedIds = new Set<string>();
  const warns: Record<string, number> = {};
  for (const wanted of effective.budgets) {
    const scope = scopeOf(wanted);
    const id = scopeId(scope);
    wantedIds.add(id);
    warns[id] = wanted.warnPercent;
    const now = live.get(id);
    if (now !== undefined && now.limit === wanted.limit && now.period === wanted.period && made.warnPercent[id] === wanted.warnPercent) continue;
    await coordinator.setBudget({ ...scope, limit: wanted.limit, period: wanted.period, warnPercent: wanted.warnPercent });
    report.changed.push(`${scopeText(scope)}: ${wanted.limit} tokens, ${wanted.period}, warn at ${wanted.warnPercent}%`);
  }
  for (const [id, scope] of Object.entries(made.budgets)) {
    if (wantedIds.has(id) || !live.has(id)) continue;
    try {
      await coordinator.removeBudget(scope);
      report.removed.push(scopeText(scope));
    } catch (error) {
      if (!isBatonError(error, 'NOT_FOUND')) throw error;
    }
  }

  const limits = new Map((await coordinator.rateLimitStatus()).map((s) => [s.key, s]));
  for (const { key, rate, burst } of effective.rateLimits) {
    const now = limits.get(key);
    if (now !== undefined && now.rate === rate && now.burst === burst) continue;
    await coordinator.setRateLimit(key, { rate, burst });
    report.changed.push(`rate limit ${JSON.stringify(key)}: ${rate}/s, burst ${burst}`);
  }
  const wantedKeys = new Set(effective.rateLimits.map((l) => l.key));
  for (const key of made.rateLimits) if (!wantedKeys.has(key) && limits.has(key)) report.left.push(`rate limit ${JSON.stringify(key)}`);

  const budgets = Object.fromEntries(effective.budgets.map((b) => [scopeId(scopeOf(b)), scopeOf(b)]));
  const next: Made = { budgets, warnPercent: warns, rateLimits: [...wantedKeys] };
  await writeJsonAtomic(path, next, { mode: 0o600 });
  return report;
}
