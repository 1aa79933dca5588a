// Shared state: a small key-value store with revisions (docs/shared-state.md).
// A revision is the seq of the event that made the change, so revisions
// strictly increase across the whole store, as etcd's do.
import { z } from 'zod';
import { DEFAULT_LIST_LIMIT, MAX_KEY_LENGTH, MAX_KV_LIST_BYTES, MAX_KV_LIST_LIMIT, MAX_KV_VALUE_BYTES } from '../limits.ts';
import { anyJson, key, mutation } from './fields.ts';
import { leaseRef } from './leases.ts';

const revisionField = z.int().min(1);

export const kvValue = anyJson.describe(`Any JSON value; its JSON text at most ${MAX_KV_VALUE_BYTES} bytes.`);

export const kvEntry = z
  .strictObject({
    key,
    value: kvValue,
    revision: revisionField.describe('The revision of the last change to the key (etcd: mod_revision): the seq of its kv.put event.'),
    createRevision: revisionField.describe('The revision that created the key (since it was last absent).'),
    version: z.int().min(1).describe('Puts since the key was created: 1 after the first.'),
    lease: leaseRef.nullable().describe('The lease the key is bound to: it disappears when the lease ends. null: none.'),
  })
  .describe('A key of shared state.');

const expectRevision = z.int().min(0).describe('Compare-and-swap: act only if the key is at this revision now; 0: only if it does not exist. A mismatch is CONFLICT.');

export const kvPutOptions = mutation.extend({
  expectRevision: expectRevision.optional(),
  lease: leaseRef.optional().describe('Bind the key to this lease (held now, else STALE_TOKEN or LEASE_EXPIRED); a put without one unbinds it.'),
});

export const kvDeleteOptions = mutation.extend({ expectRevision: expectRevision.optional() });

export const kvDeleteResult = z.strictObject({
  key,
  deleted: z.boolean().describe('false: the key did not exist (nothing changed).'),
  revision: revisionField.nullable().describe('The revision of the delete (its kv.deleted event); null when nothing was deleted.'),
});

export const kvListOptions = z.strictObject({
  prefix: z.string().max(MAX_KEY_LENGTH).optional().describe('Only keys starting with this.'),
  after: z.string().max(MAX_KEY_LENGTH).optional().describe('Only keys after this one (the last key of the previous page).'),
  limit: z.int().min(1).max(MAX_KV_LIST_LIMIT).optional().describe(`At most this many entries (default ${DEFAULT_LIST_LIMIT}, at most ${MAX_KV_LIST_LIMIT}); a page also ends once its values reach ${MAX_KV_LIST_BYTES / 1_048_576} MiB.`),
});

export const kvListResult = z.strictObject({
  entries: z.array(kvEntry).describe('In key order (by code point).'),
  revision: z.int().min(0).describe("The store's revision at the read: watch from it to see every change after this list."),
  more: z.boolean().describe('More keys match (the limit or the byte bound ended the page): list again with after = the last key.'),
});

/** What a watch hands over: a change, or that the changes asked for were pruned (etcd: compacted), which ends the watch. */
export const kvChange = z.discriminatedUnion('type', [
  kvEntry.extend({ type: z.literal('put') }),
  z.strictObject({
    type: z.literal('delete'),
    key,
    revision: revisionField,
    prevRevision: revisionField.describe('The revision the key had.'),
    reason: z.enum(['deleted', 'lease ended']),
  }),
  z.strictObject({
    type: z.literal('compacted'),
    fromRevision: z.int().min(0),
    compactRevision: z.int().min(0).describe('Changes up to this revision are gone from the event log (its retention): read the state again with kvList and watch from its revision.'),
  }),
]);

export const kvWatchOptions = z.strictObject({
  key: key.optional(),
  prefix: z.string().max(MAX_KEY_LENGTH).optional(),
  fromRevision: z.int().min(0).optional().describe('Hand over the changes after this revision (resumable); omitted: from now.'),
});
