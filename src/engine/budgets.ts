// Token budgets. Spend is reserved before a call and committed after it, and
// reservations count against the limit: no reservation is granted past it, so
// agents that commit within their estimates cannot overshoot it together
// (reporting spend only after the call lets them). A commit above its
// estimate is recorded all the same (the tokens were spent) and said out loud:
// a tokens.overshoot event and the result's `overshoot`. Counts are bounded
// and so are the sums the store keeps (all usage, all live reservations: at
// most MAX_TOKEN_TOTAL each), so every total it reads back is a safe integer.
import { randomUUID } from 'node:crypto';
import type { BudgetPeriod, BudgetScope, BudgetSpec, BudgetStatus, Reservation, ReserveOptions, UsageResult, UsageTotals } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { BUDGET_PERIODS, DEFAULT_RESERVATION_MS, DEFAULT_WARN_PERCENT, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TIME_MS, MAX_TOKEN_TOTAL, MAX_TOKENS, MAX_TTL_MS } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { invalid, optionalInt, optionalString, requireInt, requireNumber, requireOneOf, requireString } from './validate.ts';

/**
 * Every write that reads budgets, usage or reservations and writes from what
 * it read takes this one lock first: a report on one node and a reservation
 * on another cannot both fit under a limit that has room for one of them.
 */
const BUDGETS_LOCK = 'budgets';

interface BudgetRow {
  [column: string]: unknown;
  scope: string;
  agent: string | null;
  model: string | null;
  limit_tokens: number;
  period: BudgetPeriod;
  warn_percent: number;
}

interface UsageRow {
  [column: string]: unknown;
  used: number;
  warned: number;
  exceeded: number;
}

interface ReservationRow {
  [column: string]: unknown;
  id: string;
  agent: string;
  model: string | null;
  estimate: number;
  expires_at: number;
}

export function scopeKey(scope: BudgetScope): string {
  const parts: string[] = [];
  if (scope.agent !== undefined) parts.push(`agent:${scope.agent}`);
  if (scope.model !== undefined) parts.push(`model:${scope.model}`);
  return parts.length === 0 ? '*' : parts.join('|');
}

export function checkScope(scope: BudgetScope | undefined): BudgetScope {
  if (scope === undefined) return {};
  if (typeof scope !== 'object' || scope === null) throw invalid('a budget scope { agent?, model? } is required');
  const out: BudgetScope = {};
  const agent = optionalString('agent', scope.agent, { max: MAX_NAME_LENGTH });
  const model = optionalString('model', scope.model, { max: MAX_NAME_LENGTH });
  if (agent !== undefined) out.agent = agent;
  if (model !== undefined) out.model = model;
  return out;
}

export interface CheckedBudget {
  scope: BudgetScope;
  limit: number;
  period: BudgetPeriod;
  warnPercent: number;
}

export function checkBudget(spec: BudgetSpec): CheckedBudget {
  const scope = checkScope(spec);
  const limit = requireInt('limit', spec.limit, { min: 0, max: MAX_TOKEN_TOTAL });
  const period = requireOneOf('period', spec.period, BUDGET_PERIODS, 'none');
  const warnPercent = spec.warnPercent === undefined ? DEFAULT_WARN_PERCENT : requireNumber('warnPercent', spec.warnPercent);
  if (warnPercent > 100) throw invalid(`warnPercent must be at most 100, not ${warnPercent}`);
  return { scope, limit, period, warnPercent };
}

/** A scope to look at or reset, if one is given (undefined: every budget). */
export function checkOptionalScope(scope: BudgetScope | undefined): BudgetScope | undefined {
  return scope === undefined ? undefined : checkScope(scope);
}

export function checkReserve(options: ReserveOptions): { agent: string; model: string | null; estimate: number; ttlMs: number } {
  if (typeof options !== 'object' || options === null) throw invalid('reserve needs { agent, estimate }');
  const agent = requireString('agent', options.agent, { max: MAX_NAME_LENGTH });
  const model = options.model === undefined ? null : requireString('model', options.model, { max: MAX_NAME_LENGTH });
  const estimate = requireInt('estimate', options.estimate, { min: 1, max: MAX_TOKENS });
  const ttlMs = optionalInt('ttlMs', options.ttlMs, DEFAULT_RESERVATION_MS, { min: 1, max: MAX_TTL_MS });
  return { agent, model, estimate, ttlMs };
}

export function checkReservationId(id: unknown): string {
  return requireString('reservationId', id, { max: MAX_ID_LENGTH });
}

export function checkCommit(reservationId: unknown, actual: { promptTokens: number; completionTokens: number }): { reservationId: string; prompt: number; completion: number } {
  if (typeof actual !== 'object' || actual === null) throw invalid('commit needs the actual { promptTokens, completionTokens }');
  const prompt = requireInt('promptTokens', actual.promptTokens, { max: MAX_TOKENS });
  const completion = requireInt('completionTokens', actual.completionTokens, { max: MAX_TOKENS });
  return { reservationId: checkReservationId(reservationId), prompt, completion };
}

export function checkUsage(usage: { agent: unknown; model: unknown; promptTokens: unknown; completionTokens: unknown }): {
  agent: string;
  model: string;
  prompt: number;
  completion: number;
} {
  if (typeof usage !== 'object' || usage === null) throw invalid('a usage report { agent, model, promptTokens, completionTokens } is required');
  return {
    agent: requireString('agent', usage.agent, { max: MAX_NAME_LENGTH }),
    model: requireString('model', usage.model, { max: MAX_NAME_LENGTH }),
    prompt: requireInt('promptTokens', usage.promptTokens, { max: MAX_TOKENS }),
    completion: requireInt('completionTokens', usage.completionTokens, { max: MAX_TOKENS }),
  };
}

export function checkSince(options: { since?: number }): number {
  return optionalInt('since', options.since, 0, { max: MAX_TIME_MS });
}

/** Start of the current period, in UTC. */
export function periodStart(period: BudgetPeriod, now: number): number {
  const d = new Date(now);
  if (period === 'daily') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'monthly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return 0;
}

async function statusOf(tx: StoreTx, budget: BudgetRow): Promise<BudgetStatus & { warned: boolean; exceededOnce: boolean }> {
  const start = periodStart(budget.period, tx.now);
  const usage = await tx.get<UsageRow>('budgetUsageGet', { scope: budget.scope, periodStart: start });
  const reserved = (await tx.get<{ total: number }>('reservationsSum', { now: tx.now, agent: budget.agent, model: budget.model }))!.total;
  const used = usage?.used ?? 0;
  return {
    scope: budget.scope,
    agent: budget.agent,
    model: budget.model,
    period: budget.period,
    periodStart: start,
    limit: budget.limit_tokens,
    used,
    reserved,
    remaining: budget.limit_tokens - used - reserved,
    warning: used + reserved >= (budget.limit_tokens * budget.warn_percent) / 100,
    exceeded: used > budget.limit_tokens,
    warned: (usage?.warned ?? 0) === 1,
    exceededOnce: (usage?.exceeded ?? 0) === 1,
  };
}

function publicStatus(s: BudgetStatus & { warned: boolean; exceededOnce: boolean }): BudgetStatus {
  const { warned: _w, exceededOnce: _e, ...status } = s;
  return status;
}

/** The budgets that apply to one agent's use of one model. */
async function applicable(tx: StoreTx, agent: string, model: string | null): Promise<BudgetRow[]> {
  const scopes = [scopeKey({}), scopeKey({ agent })];
  if (model !== null) scopes.push(scopeKey({ model }), scopeKey({ agent, model }));
  const rows: BudgetRow[] = [];
  for (const scope of scopes) {
    const row = await tx.get<BudgetRow>('budgetGet', { scope });
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

export async function setBudget(tx: StoreTx, { scope, limit, period, warnPercent }: CheckedBudget): Promise<BudgetStatus> {
  await tx.lock(BUDGETS_LOCK);
  const key = scopeKey(scope);
  tx.defer('budgetUpsert', { scope: key, agent: scope.agent ?? null, model: scope.model ?? null, limit, period, warnPercent, now: tx.now });
  await emit(tx, 'budget.set', key, null, { limit, period, warnPercent });
  return publicStatus(await statusOf(tx, (await tx.get<BudgetRow>('budgetGet', { scope: key }))!));
}

export async function removeBudget(tx: StoreTx, scope: BudgetScope): Promise<void> {
  await tx.lock(BUDGETS_LOCK);
  const key = scopeKey(scope);
  const { changes } = await tx.run('budgetDelete', { scope: key });
  if (changes === 0) throw new BatonError('NOT_FOUND', `no budget for scope ${JSON.stringify(key)}`);
  tx.defer('budgetUsageReset', { scope: key });
  await emit(tx, 'budget.removed', key, null);
}

export async function budgetStatus(tx: StoreTx, scope: BudgetScope | undefined): Promise<BudgetStatus[]> {
  const rows = await tx.all<BudgetRow>('budgetList');
  const want = scope === undefined ? undefined : scopeKey(scope);
  const out: BudgetStatus[] = [];
  for (const row of rows) if (want === undefined || row.scope === want) out.push(publicStatus(await statusOf(tx, row)));
  return out;
}

function tightest(statuses: BudgetStatus[]): BudgetStatus | null {
  return statuses.reduce<BudgetStatus | null>((best, s) => (best === null || s.remaining < best.remaining ? s : best), null);
}

/** Where the sum of all usage ever recorded is kept: usage is never pruned, so this bounds every sum read from it. */
const USAGE_TOTAL_KEY = 'usage.total';

/** All usage recorded (prompt and completion tokens); a store from before the running total is counted once. */
async function usageTotal(tx: StoreTx): Promise<number> {
  const kept = await tx.get<{ value: string }>('metaGet', { key: USAGE_TOTAL_KEY });
  if (kept !== undefined) return Number(kept.value);
  const byAgent = await tx.all<{ prompt: number; completion: number }>('usageByAgent', { since: 0 });
  return byAgent.reduce((sum, r) => sum + r.prompt + r.completion, 0);
}

/** Adds `tokens` to the running total, refusing usage the store's sums could not hold. */
async function countUsage(tx: StoreTx, tokens: number): Promise<void> {
  const before = await usageTotal(tx);
  if (before + tokens > MAX_TOKEN_TOTAL) {
    throw new BatonError('INVALID_ARGUMENT', `promptTokens + completionTokens (${tokens}) would take the usage recorded in this store past ${MAX_TOKEN_TOTAL} tokens, the most its totals can hold (it has ${before})`, {
      details: { tokens, recorded: before, max: MAX_TOKEN_TOTAL },
    });
  }
  tx.defer('metaSet', { key: USAGE_TOTAL_KEY, value: String(before + tokens) });
}

/** Records usage against every budget that applies; `reservationId` names the reservation a commit settles. */
export async function recordUsage(tx: StoreTx, agent: string, model: string, prompt: number, completion: number, reservationId?: string): Promise<UsageResult> {
  await tx.lock(BUDGETS_LOCK);
  const total = prompt + completion;
  await countUsage(tx, total);
  tx.defer('usageInsert', { now: tx.now, agent, model, prompt, completion });
  const statuses: BudgetStatus[] = [];
  for (const budget of await applicable(tx, agent, model)) {
    const before = await statusOf(tx, budget);
    const used = before.used + total;
    const warnAt = (budget.limit_tokens * budget.warn_percent) / 100;
    const crossWarning = !before.warned && used + before.reserved >= warnAt;
    const crossLimit = !before.exceededOnce && used > budget.limit_tokens;
    tx.defer('budgetUsageUpsert', {
      scope: budget.scope,
      periodStart: before.periodStart,
      used,
      warned: before.warned || crossWarning ? 1 : 0,
      exceeded: before.exceededOnce || crossLimit ? 1 : 0,
    });
    const after = publicStatus(await statusOf(tx, budget));
    if (crossWarning) await emit(tx, 'tokens.warning', budget.scope, agent, { used, limit: budget.limit_tokens, warnPercent: budget.warn_percent });
    if (crossLimit) await emit(tx, 'tokens.exceeded', budget.scope, agent, { used, limit: budget.limit_tokens });
    statuses.push(after);
  }
  await emit(tx, 'tokens.updated', agent, agent, { model, promptTokens: prompt, completionTokens: completion, ...(reservationId === undefined ? {} : { reservationId }) });
  return { status: tightest(statuses), budgets: statuses, overshoot: null };
}

export async function reserve(tx: StoreTx, agent: string, model: string | null, estimate: number, ttlMs: number): Promise<Reservation> {
  await tx.lock(BUDGETS_LOCK);
  // Every budget's `reserved` is a sum of live reservations: all of them together stay within what a sum can hold.
  const reserved = (await tx.get<{ total: number }>('reservationsSum', { now: tx.now, agent: null, model: null }))!.total;
  if (reserved + estimate > MAX_TOKEN_TOTAL) {
    throw new BatonError('INVALID_ARGUMENT', `estimate ${estimate} would take the tokens reserved at once past ${MAX_TOKEN_TOTAL} (reserved now: ${reserved}); commit or cancel reservations first`, {
      details: { estimate, reserved, max: MAX_TOKEN_TOTAL },
    });
  }
  for (const budget of await applicable(tx, agent, model)) {
    const s = await statusOf(tx, budget);
    if (s.used + s.reserved + estimate > s.limit) {
      throw new BatonError('BUDGET_EXCEEDED', `reserving ${estimate} tokens for ${JSON.stringify(agent)} would exceed budget ${JSON.stringify(s.scope)}: used ${s.used} + reserved ${s.reserved} of ${s.limit}`, {
        details: { scope: s.scope, used: s.used, reserved: s.reserved, limit: s.limit, estimate },
      });
    }
  }
  const reservation: Reservation = { id: randomUUID(), agent, model, estimate, expiresAt: tx.now + ttlMs };
  tx.defer('reservationInsert', { id: reservation.id, agent, model, estimate, now: tx.now, expiresAt: reservation.expiresAt });
  await emit(tx, 'tokens.reserved', reservation.id, agent, { model, estimate, expiresAt: reservation.expiresAt });
  return reservation;
}

async function takeReservation(tx: StoreTx, id: string): Promise<ReservationRow> {
  const row = await tx.get<ReservationRow>('reservationGet', { id });
  if (row === undefined || row.expires_at <= tx.now) {
    throw new BatonError('NOT_FOUND', `no reservation ${JSON.stringify(id)} (committed, cancelled or expired); report the usage instead`, { details: { reservationId: id } });
  }
  tx.defer('reservationDelete', { id });
  return row;
}

export async function commitReservation(tx: StoreTx, id: string, prompt: number, completion: number): Promise<UsageResult> {
  await tx.lock(BUDGETS_LOCK);
  const row = await takeReservation(tx, id);
  const actual = prompt + completion;
  const model = row.model ?? 'unknown';
  // Before the usage's own events: the overshoot is why a tokens.exceeded may follow.
  const overshoot = actual > row.estimate ? { reservationId: id, estimate: row.estimate, actual, by: actual - row.estimate } : null;
  if (overshoot !== null) await emit(tx, 'tokens.overshoot', id, row.agent, { ...overshoot, agent: row.agent, model: row.model });
  return { ...(await recordUsage(tx, row.agent, model, prompt, completion, id)), overshoot };
}

export async function cancelReservation(tx: StoreTx, id: string): Promise<void> {
  await tx.lock(BUDGETS_LOCK);
  const row = await takeReservation(tx, id);
  await emit(tx, 'tokens.released', id, row.agent, { estimate: row.estimate });
}

export async function resetBudget(tx: StoreTx, scope: BudgetScope | undefined): Promise<void> {
  await tx.lock(BUDGETS_LOCK);
  if (scope === undefined) {
    tx.defer('budgetUsageResetAll');
    await emit(tx, 'tokens.reset', null, null);
    return;
  }
  const key = scopeKey(scope);
  // As removeBudget: a scope with no budget is a mistake (a misspelt agent), not a reset.
  if ((await tx.get<BudgetRow>('budgetGet', { scope: key })) === undefined) throw new BatonError('NOT_FOUND', `no budget for scope ${JSON.stringify(key)}`, { details: { scope: key } });
  tx.defer('budgetUsageReset', { scope: key });
  await emit(tx, 'tokens.reset', key, null);
}

export async function usageTotals(tx: StoreTx, since: number): Promise<UsageTotals> {
  type Sum = { [c: string]: unknown; prompt: number; completion: number };
  const byAgent = await tx.all<Sum & { agent: string }>('usageByAgent', { since });
  const byModel = await tx.all<Sum & { model: string }>('usageByModel', { since });
  return {
    byAgent: byAgent.map((r) => ({ agent: r.agent, promptTokens: r.prompt, completionTokens: r.completion, total: r.prompt + r.completion })),
    byModel: byModel.map((r) => ({ model: r.model, promptTokens: r.prompt, completionTokens: r.completion, total: r.prompt + r.completion })),
  };
}

export async function sweepReservations(tx: StoreTx): Promise<number> {
  await tx.lock(BUDGETS_LOCK);
  return (await tx.run('reservationsExpire', { now: tx.now })).changes;
}
