// Shared state between agents (docs/shared-state.md): small JSON values under
// keys, each change with a revision; kv_put with expect_revision is a
// compare-and-swap, the way to change a value someone else may change too.
import { z } from 'zod';
import type { KvEntry } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';
import { DEFAULT_MCP_KV_LIST_LIMIT, MAX_KEY_LENGTH, MAX_KV_LIST_BYTES, MAX_KV_VALUE_BYTES, MAX_MCP_KV_LIST_LIMIT } from '../../limits.ts';
import { anyJson, key } from '../../schema/fields.ts';
import { refusal } from './refusals.ts';
import { tool } from './tool.ts';

const expectRevision = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe('Compare-and-swap: act only if the key is still at this revision (the one kv_get gave you); 0: only if the key does not exist yet. Omit to act unconditionally.');

const RETRY = 'call kv_get for its current value and revision, redo your change on that value, and call again with expect_revision set to that revision; nothing was changed';

function entryView(e: KvEntry): Record<string, unknown> {
  return { key: e.key, value: e.value, revision: e.revision, create_revision: e.createRevision, version: e.version, lock: e.lease?.key ?? null };
}

/** CONFLICT with what to do about it, for an agent. */
function conflictHint<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    if (isBatonError(error, 'CONFLICT')) throw refusal('CONFLICT', error.message, `it changed since you read it: ${RETRY}`, error.details);
    throw error;
  });
}

export const kvGet = tool({
  name: 'kv_get',
  title: 'Read a shared value',
  description: 'Read a value the agents share (a config, a counter, who does what) and its revision. To change it safely, pass that revision as expect_revision to kv_put.',
  input: z.strictObject({ key: key.describe('The key, e.g. "release/version".') }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const entry = await ctx.backend.coordinator.kvGet(args.key);
    return entry === null ? { key: args.key, found: false, next: 'no such key: create it with kv_put and expect_revision 0' } : { found: true, ...entryView(entry) };
  },
});

export const kvPut = tool({
  name: 'kv_put',
  title: 'Write a shared value (compare-and-swap)',
  description: `Set a shared value (any JSON, at most ${MAX_KV_VALUE_BYTES / 1024} KiB). When others may change it too, pass expect_revision (from kv_get; 0 to create): if it changed meanwhile you get CONFLICT and nothing is written; read it again and retry. With lock, the key lasts only as long as you hold that lock (it disappears when you release it or disconnect).`,
  input: z.strictObject({
    key: key.describe('The key, e.g. "release/version".'),
    value: anyJson.describe('Any JSON value.'),
    expect_revision: expectRevision,
    lock: z.string().min(1).max(MAX_KEY_LENGTH).optional().describe('The name of a lock you hold (acquire_lock) or a reservation key ("path:..."): the key goes when it does.'),
  }),
  async run(args, ctx) {
    const lease = args.lock === undefined ? undefined : ctx.agent.leases.get(args.lock);
    if (args.lock !== undefined && lease === undefined) {
      throw refusal('STALE_TOKEN', `you do not hold ${JSON.stringify(args.lock)}`, `take it first with acquire_lock (name "${args.lock}"), or omit lock; nothing was written`, { key: args.lock });
    }
    const entry = await conflictHint(() =>
      ctx.backend.coordinator.kvPut(args.key, args.value, {
        ...(args.expect_revision === undefined ? {} : { expectRevision: args.expect_revision }),
        ...(lease === undefined ? {} : { lease: { key: lease.key, token: lease.token } }),
      }),
    );
    return entryView(entry);
  },
});

export const kvDelete = tool({
  name: 'kv_delete',
  title: 'Delete a shared value',
  description: 'Delete a shared value. With expect_revision, only if it is still at that revision (else CONFLICT: read it again). Deleting a key that does not exist is not an error.',
  input: z.strictObject({ key: key.describe('The key.'), expect_revision: expectRevision }),
  annotations: { destructiveHint: true },
  async run(args, ctx) {
    const result = await conflictHint(() => ctx.backend.coordinator.kvDelete(args.key, args.expect_revision === undefined ? {} : { expectRevision: args.expect_revision }));
    return { key: result.key, deleted: result.deleted, revision: result.revision };
  },
});

export const kvList = tool({
  name: 'kv_list',
  title: 'List shared values',
  description: 'List the values agents share whose keys start with a prefix, in key order, with their revisions and the revision of the read. A page ends at limit entries or about 1 MiB of values; page on with after.',
  input: z.strictObject({
    prefix: z.string().max(MAX_KEY_LENGTH).optional().describe('Only keys starting with this, e.g. "release/". Default: all.'),
    after: z.string().max(MAX_KEY_LENGTH).optional().describe('Only keys after this one: the last key of the previous page.'),
    limit: z.number().int().min(1).max(MAX_MCP_KV_LIST_LIMIT).optional()
      .describe(`At most this many (default ${DEFAULT_MCP_KV_LIST_LIMIT}, at most ${MAX_MCP_KV_LIST_LIMIT}; values of ${MAX_KV_LIST_BYTES / 1_048_576} MiB end a page too).`),
  }),
  annotations: { readOnlyHint: true },
  async run(args, ctx) {
    const list = await ctx.backend.coordinator.kvList({
      ...(args.prefix === undefined ? {} : { prefix: args.prefix }),
      ...(args.after === undefined ? {} : { after: args.after }),
      limit: args.limit ?? DEFAULT_MCP_KV_LIST_LIMIT,
    });
    const last = list.entries.at(-1)?.key;
    const next = `there are more: list again with after ${JSON.stringify(last)} (same prefix), or narrow the prefix`;
    return { entries: list.entries.map(entryView), revision: list.revision, ...(list.more ? { more: true, next } : {}) };
  },
});
