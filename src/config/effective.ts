// The configuration in force: each setting from its environment variable, else
// baton.toml, else its default, with where it came from; and the budgets and
// rate limits the file asks for. (`baton serve`'s flags win over all three: it
// lays them over this.)
import { BatonError } from '../errors.ts';
import { describeIssue } from '../protocol/validation.ts';
import type { ConfigFile } from './load.ts';
import { valueAt, type BudgetEntry, type RateLimitEntry } from './schema.ts';
import { SETTINGS, type Setting } from './settings.ts';

export type Source = { kind: 'file'; file: string; line: number | undefined } | { kind: 'env'; name: string } | { kind: 'default' };

export interface Value {
  setting: Setting;
  /** undefined: not set anywhere, and no default. */
  value: unknown;
  source: Source;
}

/** A budget the file asks for; scope {} is the project's total. */
export interface WantedBudget {
  agent?: string;
  model?: string;
  limit: number;
  period: 'none' | 'daily' | 'monthly';
  warnPercent: number;
  source: Source;
}

export interface WantedRateLimit {
  key: string;
  rate: number;
  burst: number;
  source: Source;
}

export interface Effective {
  /** The file read, if there is one. */
  file: ConfigFile | undefined;
  values: Map<string, Value>;
  budgets: WantedBudget[];
  rateLimits: WantedRateLimit[];
}

const fileSource = (file: ConfigFile, path: readonly string[]): Source => ({ kind: 'file', file: file.path, line: file.lines.lineOf(path) });

/** A variable's value, checked as the file's would be: CONFIG_INVALID naming the variable. */
function fromEnv(setting: Setting, text: string): unknown {
  const checked = setting.schema.safeParse(setting.fromEnv(text), { reportInput: true });
  if (!checked.success) {
    const reason = describeIssue(checked.error.issues[0]!, setting.env, setting.schema);
    throw new BatonError('CONFIG_INVALID', `environment: ${reason} (it overrides ${setting.key})`, { details: { env: setting.env, reason } });
  }
  return checked.data;
}

export function effectiveConfig(file: ConfigFile | undefined, env: NodeJS.ProcessEnv = process.env): Effective {
  const values = new Map<string, Value>();
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    const inFile = file === undefined ? undefined : valueAt(file.data, setting.key);
    let value: Value;
    if (text !== undefined && text.trim() !== '') value = { setting, value: fromEnv(setting, text), source: { kind: 'env', name: setting.env } };
    else if (inFile !== undefined) value = { setting, value: inFile, source: fileSource(file!, setting.key.split('.')) };
    else value = { setting, value: setting.default, source: { kind: 'default' } };
    values.set(setting.key, value);
  }
  const at = (key: string): Value => values.get(key)!;
  const period = at('budget.period').value as WantedBudget['period'];
  const warnPercent = at('budget.warn_percent').value as number;
  const budgets: WantedBudget[] = [];
  const total = at('budget.total');
  if (total.value !== undefined) budgets.push({ limit: total.value as number, period, warnPercent, source: total.source });
  for (const [table, field] of [['agents', 'agent'], ['models', 'model']] as const) {
    const entries = file === undefined ? undefined : (valueAt(file.data, `budget.${table}`) as Record<string, BudgetEntry> | undefined);
    for (const [name, entry] of Object.entries(entries ?? {})) {
      const own = typeof entry === 'number' ? { limit: entry } : entry;
      budgets.push({
        [field]: name,
        limit: own.limit,
        period: own.period ?? period,
        warnPercent: own.warn_percent ?? warnPercent,
        source: fileSource(file!, ['budget', table, name]),
      });
    }
  }
  const limits = file === undefined ? undefined : (valueAt(file.data, 'rate_limits') as Record<string, RateLimitEntry> | undefined);
  const rateLimits = Object.entries(limits ?? {}).map(([key, { rate, burst }]) => ({ key, rate, burst, source: fileSource(file!, ['rate_limits', key]) }));
  return { file, values, budgets, rateLimits };
}

/** A setting's value in force (undefined when unset with no default). */
export function valueOf<T>(effective: Effective, key: string): T {
  return effective.values.get(key)?.value as T;
}

/** Where a value came from, as `config show` and the log say it: `baton.toml:12`, `env BATON_MAX_QUEUE`, `default`. */
export function showSource(source: Source): string {
  if (source.kind === 'file') return `${source.file}${source.line === undefined ? '' : `:${source.line}`}`;
  return source.kind === 'env' ? `env ${source.name}` : 'default';
}

/**
 * The variables the credentials read (src/credentials/providers.ts), for the
 * settings the file gives: the daemon sets them where the environment does not.
 */
export function authVariables(effective: Effective): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { setting, value, source } of effective.values.values()) {
    if (setting.key.startsWith('auth.') && source.kind === 'file') out[setting.env] = Array.isArray(value) ? value.join(' ') : String(value);
  }
  return out;
}
