// The shape of baton.toml: the settings of settings.ts, each at its dotted key,
// and the file's tables (budgets per agent and per model, rate limits). Every
// object is strict, so a key baton does not know (a typo) is refused, not
// ignored.
import { z } from 'zod';
import { budgetPeriod, budgetSpec } from '../schema/budgets.ts';
import { key, name } from '../schema/fields.ts';
import { rateLimitSpec } from '../schema/rate-limits.ts';
import { SETTINGS } from './settings.ts';

const warnPercent = z.number().min(0).max(100);

/** A budget of one agent or one model: its tokens per period, or those with its own period and warning. */
export const budgetEntry = z.union([
  budgetSpec.shape.limit,
  z.strictObject({ limit: budgetSpec.shape.limit, period: budgetPeriod.optional(), warn_percent: warnPercent.optional() }),
]);

/** A rate limit: tokens per second and the bucket's size. */
export const rateLimitEntry = z.strictObject({ rate: rateLimitSpec.shape.rate, burst: rateLimitSpec.shape.burst });

/** The tables, by their dotted key. */
const TABLES: Record<string, z.ZodType> = {
  'budget.agents': z.record(name, budgetEntry),
  'budget.models': z.record(name, budgetEntry),
  rate_limits: z.record(key, rateLimitEntry),
};

interface Node {
  [part: string]: Node | z.ZodType;
}

function build(node: Node): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [part, child] of Object.entries(node)) shape[part] = (child instanceof z.ZodType ? child : build(child)).optional();
  return z.strictObject(shape);
}

function fileSchema(): z.ZodType<Record<string, unknown>> {
  const root: Node = {};
  const entries: [string, z.ZodType][] = [...SETTINGS.map((s): [string, z.ZodType] => [s.key, s.schema]), ...Object.entries(TABLES)];
  for (const [dotted, schema] of entries) {
    const parts = dotted.split('.');
    let at = root;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Node;
    at[parts.at(-1)!] = schema;
  }
  return build(root) as z.ZodType<Record<string, unknown>>;
}

/** The whole file. */
export const configFileSchema = fileSchema();

export type BudgetEntry = z.infer<typeof budgetEntry>;
export type RateLimitEntry = z.infer<typeof rateLimitEntry>;

/** The value at a dotted key of a checked file, or undefined. */
export function valueAt(data: Record<string, unknown>, dotted: string): unknown {
  let at: unknown = data;
  for (const part of dotted.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}
