// Every single-valued setting baton.toml holds, once: its key in the file, the
// environment variable that overrides it (12-factor), its default, and whether
// a running daemon takes a change at once ('live') or at its next start. The
// file's schema (schema.ts), `baton config show` and `baton serve` read this
// table. The tables of the file (budgets per agent and per model, rate limits)
// have no variables: they are in schema.ts.
import { z } from 'zod';
import { PROVIDER_SETTINGS } from '../credentials/providers.ts';
import { engineSettings } from '../engine/settings.ts';
import {
  DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_QUEUE, DEFAULT_NODE_TTL_MS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_WARN_PERCENT,
  MAX_TTL_MS, MAX_WAIT_MS, MIN_MAX_BODY_BYTES, MIN_NODE_TTL_MS,
} from '../limits.ts';
import { budgetPeriod, budgetSpec } from '../schema/budgets.ts';
import { showDuration } from './duration-text.ts';
import { duration } from './duration.ts';

/** 'live': a running daemon applies a change when the file changes; 'next start': it is read when the daemon starts. */
export type Applies = 'live' | 'next start';

export interface Setting {
  /** Its dotted key in baton.toml. */
  key: string;
  /** The environment variable that overrides the file. */
  env: string;
  schema: z.ZodType;
  /** The variable's text as the value the schema checks. */
  fromEnv(text: string): unknown;
  /** The value when neither the file nor the environment gives one (undefined: none). */
  default: unknown;
  applies: Applies;
  /** The value as `config show` prints it. */
  show(value: unknown): string;
}

/** A number from a variable's text ("4096", "0.5"); other text is kept, for the schema to refuse in its words. */
const numeric = (text: string): unknown => (/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(text.trim()) ? Number(text) : text);
const plain = (value: unknown): string => (Array.isArray(value) ? value.join(' ') : String(value));
const asDuration = (value: unknown): string => (typeof value === 'number' ? showDuration(value) : String(value));

const engineDefaults = engineSettings();
const gemini = PROVIDER_SETTINGS.gemini;
const text = z.string().min(1).max(4096);

function setting(key: string, env: string, schema: z.ZodType, fallback: unknown, applies: Applies, kind: 'number' | 'duration' | 'text' | 'words' = 'number'): Setting {
  return {
    key,
    env,
    schema,
    fromEnv: kind === 'words' ? (t) => t.trim().split(/\s+/) : kind === 'text' ? (t) => t.trim() : numeric,
    default: fallback,
    applies,
    show: kind === 'duration' ? asDuration : plain,
  };
}

export const SETTINGS: readonly Setting[] = [
  // The project's token budget: all usage, per period. Per agent and per model: [budget.agents], [budget.models].
  setting('budget.total', 'BATON_BUDGET_TOTAL', budgetSpec.shape.limit, undefined, 'live'),
  setting('budget.period', 'BATON_BUDGET_PERIOD', budgetPeriod, 'none', 'live', 'text'),
  setting('budget.warn_percent', 'BATON_BUDGET_WARN_PERCENT', z.number().min(0).max(100), DEFAULT_WARN_PERCENT, 'live'),
  // A failed task's retry: exponential from base, at most max (the engine's policy).
  setting('retry.base', 'BATON_RETRY_BASE', duration(0, MAX_TTL_MS), engineDefaults.retry.baseMs, 'next start', 'duration'),
  setting('retry.max', 'BATON_RETRY_MAX', duration(0, MAX_TTL_MS), engineDefaults.retry.maxMs, 'next start', 'duration'),
  // The event log's retention, applied by the sweeper.
  setting('retention.events_max_age', 'BATON_EVENTS_MAX_AGE', duration(1, 100 * 365 * 86_400_000), engineDefaults.retention.maxAgeMs, 'next start', 'duration'),
  setting('retention.events_max_count', 'BATON_EVENTS_MAX_COUNT', z.int().min(1).max(Number.MAX_SAFE_INTEGER), engineDefaults.retention.maxCount, 'next start'),
  // The daemon's limits, also `baton serve` flags (which win over both).
  setting('daemon.max_queue', 'BATON_MAX_QUEUE', z.int().min(1).max(Number.MAX_SAFE_INTEGER), DEFAULT_MAX_QUEUE, 'next start'),
  setting('daemon.max_body', 'BATON_MAX_BODY', z.int().min(MIN_MAX_BODY_BYTES).max(Number.MAX_SAFE_INTEGER), DEFAULT_MAX_BODY_BYTES, 'next start'),
  setting('daemon.max_connections', 'BATON_MAX_CONNECTIONS', z.int().min(1).max(Number.MAX_SAFE_INTEGER), DEFAULT_MAX_CONNECTIONS, 'next start'),
  setting('daemon.request_timeout', 'BATON_REQUEST_TIMEOUT', duration(1, MAX_WAIT_MS), DEFAULT_REQUEST_TIMEOUT_MS, 'next start', 'duration'),
  setting('daemon.node_ttl', 'BATON_NODE_TTL', duration(MIN_NODE_TTL_MS, MAX_WAIT_MS), DEFAULT_NODE_TTL_MS, 'next start', 'duration'),
  setting('daemon.drain_grace', 'BATON_DRAIN_GRACE', duration(0, MAX_WAIT_MS), 0, 'next start', 'duration'),
  setting('daemon.durability', 'BATON_DURABILITY', z.enum(['normal', 'full']), 'normal', 'next start', 'text'),
  // What the daemon tells an operator (docs/observability.md): GET /metrics, and one log line per request.
  setting('daemon.metrics', 'BATON_METRICS', z.enum(['on', 'off']), 'on', 'next start', 'text'),
  setting('daemon.access_log', 'BATON_ACCESS_LOG', z.enum(['on', 'off']), 'on', 'next start', 'text'),
  // Gemini's OAuth settings (src/credentials/providers.ts reads these variables); secrets stay in the environment.
  setting('auth.gemini.issuer', 'BATON_GEMINI_ISSUER', z.url({ protocol: /^https?$/ }), gemini.defaultIssuer, 'live', 'text'),
  setting('auth.gemini.scopes', 'BATON_GEMINI_SCOPES', z.array(text.regex(/^\S+$/, 'must be one scope, with no spaces')).min(1), [...gemini.defaultScopes], 'live', 'words'),
  setting('auth.gemini.client_id', 'GOOGLE_OAUTH_CLIENT_ID', text, undefined, 'live', 'text'),
  setting('auth.gemini.project', 'GCP_PROJECT_ID', text, undefined, 'live', 'text'),
  setting('auth.gemini.region', 'VERTEX_REGION', text, undefined, 'live', 'text'),
];

/** Keys that would hold a secret: refused in the file (it is in the repository), each with the variable to use instead. */
export const SECRET_KEYS: Record<string, string> = {
  'auth.gemini.client_secret': 'GOOGLE_OAUTH_CLIENT_SECRET',
  'auth.gemini.api_key': gemini.apiKeyVariables.join(' or '),
};

export function settingNamed(key: string): Setting {
  const found = SETTINGS.find((s) => s.key === key);
  if (found === undefined) throw new Error(`no setting ${key}`);
  return found;
}
