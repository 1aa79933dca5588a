// The field shapes the concept schemas are made of, each bounded by the one
// limit in src/limits.ts. zod 4 (the MCP SDK's schema library too) checks
// them on the wire, emits the JSON Schema the OpenAPI document publishes, and
// gives the types in src/coordinator.ts.
import { z } from 'zod';
import { LEASE_MODES, MAX_ID_LENGTH, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_JSON_DEPTH, MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_PATH_LENGTH, MAX_REASON_LENGTH, MAX_TIME_MS, MAX_TTL_MS, MAX_WAIT_MS } from '../limits.ts';
import { jsonProblem } from './json-value.ts';

/** A resource key: `repo`, `git`, `path:<glob>`, any name. */
export const key = z.string().min(1).max(MAX_KEY_LENGTH).describe('A resource key: repo, git, path:<glob>, any name.');
/** An owner, agent, model, queue, kind, host or actor. */
export const name = z.string().min(1).max(MAX_NAME_LENGTH);
/** An id the store made (a session, a reservation). */
export const id = z.string().min(1).max(MAX_ID_LENGTH);
export const reason = z.string().max(MAX_REASON_LENGTH);
/** A path relative to the project root, or an absolute worktree directory. */
export const path = z.string().min(1).max(MAX_PATH_LENGTH);
export const idempotencyKey = z
  .string()
  .min(1)
  .max(MAX_IDEMPOTENCY_KEY_LENGTH)
  .describe('The same key with the same request within 10 minutes returns the first result without acting twice. Also accepted as the Idempotency-Key header.');
export const leaseMode = z.enum(LEASE_MODES);
/** Milliseconds since the epoch, from the store's one clock. */
export const time = z.int();
/** A time a caller names (ms since the epoch), before the year 10000. */
export const instant = z.int().min(0).max(MAX_TIME_MS);
/** A lifetime or delay from now, in milliseconds: at most a year, so now + it is a time the store can hold. */
export const ttl = z.int().min(0).max(MAX_TTL_MS);
/** How long to wait, in milliseconds: at most what a timer can count (about 24.8 days). */
export const wait = z.int().min(0).max(MAX_WAIT_MS);
/** A fencing token: strictly increasing per key (leases) or per task (claims). */
export const token = z.int().min(1);
export const taskId = z.int().min(1);
/** A caller's JSON nests at most MAX_JSON_DEPTH deep (JSON.stringify recurses), with no "__proto__" key and well-formed strings. */
function boundedJson<T extends z.ZodType>(schema: T): T {
  return schema.superRefine((value, ctx) => {
    const found = jsonProblem(value, MAX_JSON_DEPTH);
    if (found !== null) ctx.addIssue({ code: 'custom', message: found.problem, path: found.path, input: value });
  });
}

export const anyJson = boundedJson(z.unknown()).describe(`Any JSON value, nested at most ${MAX_JSON_DEPTH} deep.`);
/** Free-form maps take any own key but "__proto__" (the daemon refuses that key anywhere in a body). */
export const labels = z.record(z.string(), z.string());
export const dataObject = boundedJson(z.record(z.string(), z.unknown()));

/** What every mutation takes: the same key and request within 10 minutes acts once. */
export const mutation = z.strictObject({
  idempotencyKey: idempotencyKey.optional(),
  by: name.optional().describe('Who asks, for the audit log (docs/audit.md). Through the daemon, a token or signed request is named by its credential instead.'),
});
