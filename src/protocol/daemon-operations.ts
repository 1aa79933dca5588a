// The daemon's own operations beside the Coordinator's: files under the
// project root, changed only by the holder of a covering path lease, and git
// under the `git` lease; each in the worktree the request names. And
// webhooks, which the daemon delivers.
import { z } from 'zod';
import { MAX_ID_LENGTH, MAX_LIST_LIMIT, MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_WEBHOOK_EVENTS, MAX_WEBHOOK_URL_LENGTH } from '../limits.ts';
import { leaseRef } from '../schema/leases.ts';
import type { ProjectOperations } from './project-operations.ts';
import { idempotencyKey, path, ttl } from '../schema/fields.ts';

const worktree = path.describe("The worktree to act in: the absolute path of its top level, a worktree of the daemon's repository. Default: the daemon's own.");
const actor = z.string().max(MAX_NAME_LENGTH).describe('Who the fs.changed event names; default: the lease holder.');
const change = { lease: leaseRef.optional(), actor: actor.optional(), worktree: worktree.optional(), idempotencyKey: idempotencyKey.optional() };

export const writeFileBody = z.strictObject({
  path,
  content: z.string().optional().describe('UTF-8 text.'),
  base64: z.string().optional().describe('Binary content, base64.'),
  ...change,
});
export const deleteFileBody = z.strictObject({ path, ...change });
export const renameFileBody = z.strictObject({ from: path, to: path, ...change });
export const readFileBody = z.strictObject({ path, encoding: z.enum(['utf8', 'base64']).optional(), worktree: worktree.optional() });
export const gitStatusBody = z.strictObject({ worktree: worktree.optional() });
export const gitCommitBody = z.strictObject({
  message: z.string().min(1).max(MAX_TEXT_LENGTH),
  paths: z.array(path).optional(),
  owner: z.string().max(MAX_NAME_LENGTH).optional(),
  worktree: worktree.optional(),
  idempotencyKey: idempotencyKey.optional(),
});

export const fileResult = z.strictObject({ path: z.string(), size: z.int().optional(), from: z.string().optional() });
export const readFileResult = z.strictObject({ path: z.string(), content: z.string().optional(), base64: z.string().optional(), size: z.int() });
export const gitStatusResult = z.strictObject({ output: z.string() });
export const gitCommitResult = z.strictObject({ output: z.string(), commit: z.string().nullable() });

export type FileResult = z.infer<typeof fileResult>;

// Webhooks (docs/webhooks.md): endpoints the daemon delivers events to, signed per Standard Webhooks.
const endpointId = z.string().min(1).max(MAX_ID_LENGTH).describe("An endpoint's id (ep_...), as webhookAdd and webhookList give it.");
export const webhookAddBody = z.strictObject({
  url: z.string().min(1).max(MAX_WEBHOOK_URL_LENGTH).describe('http: or https:, no credentials; by default not a loopback, private, link-local or multicast host.'),
  events: z.array(z.string().min(1).max(MAX_NAME_LENGTH)).max(MAX_WEBHOOK_EVENTS).optional().describe("Event type prefixes, e.g. ['task.', 'lease.acquired']; none: every event."),
  allowPrivate: z.boolean().optional().describe('Allow a host on this machine or its networks; the daemon must also run with --webhooks-allow-private.'),
  disableAfterMs: ttl.min(1).optional().describe('Disable the endpoint once it has failed every delivery for this long. Default 5 days.'),
  idempotencyKey: idempotencyKey.optional(),
});
export const webhookListBody = z.strictObject({});
export const webhookIdBody = z.strictObject({ id: endpointId, idempotencyKey: idempotencyKey.optional() });
export const webhookRotateBody = webhookIdBody.extend({ overlapMs: ttl.optional().describe('How long the previous secret still signs beside the new one. Default 24 h.') });
export const webhookDeliveriesBody = z.strictObject({ endpointId: endpointId.optional(), limit: z.int().min(1).max(MAX_LIST_LIMIT).optional() });

export const webhookEndpoint = z.strictObject({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  allowPrivate: z.boolean(),
  disableAfterMs: z.int(),
  createdAt: z.int(),
  failingSince: z.int().nullable(),
  disabledAt: z.int().nullable(),
  disabledReason: z.string().nullable(),
  secretFingerprint: z.string().describe('sha256 of the current secret, shortened: the secret itself is shown once, by webhookAdd and webhookRotate.'),
  previousSecretUntil: z.int().nullable().describe('While the previous secret also signs: until when.'),
});
export const webhookWithSecret = z.strictObject({ endpoint: webhookEndpoint, secret: z.string().describe('whsec_...: shown this once; store it where the receiver verifies.') });
const outcome = z.strictObject({ at: z.int(), status: z.int().nullable(), error: z.string().nullable(), ms: z.int() });
export const webhookDelivery = z.strictObject({
  id: z.string().describe('The webhook-id header: the same on every attempt; receivers dedupe by it.'),
  endpointId: z.string(),
  eventSeq: z.int().nullable(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  nextAt: z.int().nullable(),
  lastStatus: z.int().nullable(),
  lastError: z.string().nullable(),
  lastMs: z.int().nullable(),
  outcomes: z.array(outcome),
  createdAt: z.int(),
  updatedAt: z.int(),
});

/** What the daemon serves beside the Coordinator, one body in, one result out. */
export interface DaemonOperations extends ProjectOperations {
  writeFile(body: z.infer<typeof writeFileBody>): Promise<FileResult>;
  deleteFile(body: z.infer<typeof deleteFileBody>): Promise<FileResult>;
  renameFile(body: z.infer<typeof renameFileBody>): Promise<FileResult>;
  readFile(body: z.infer<typeof readFileBody>): Promise<z.infer<typeof readFileResult>>;
  gitStatus(body: z.infer<typeof gitStatusBody>): Promise<z.infer<typeof gitStatusResult>>;
  gitCommit(body: z.infer<typeof gitCommitBody>): Promise<z.infer<typeof gitCommitResult>>;
  webhookAdd(body: z.infer<typeof webhookAddBody>): Promise<z.infer<typeof webhookWithSecret>>;
  webhookList(body: z.infer<typeof webhookListBody>): Promise<Array<z.infer<typeof webhookEndpoint>>>;
  webhookRemove(body: z.infer<typeof webhookIdBody>): Promise<null>;
  webhookRotate(body: z.infer<typeof webhookRotateBody>): Promise<z.infer<typeof webhookWithSecret>>;
  webhookTest(body: z.infer<typeof webhookIdBody>): Promise<z.infer<typeof webhookDelivery>>;
  webhookDeliveries(body: z.infer<typeof webhookDeliveriesBody>): Promise<Array<z.infer<typeof webhookDelivery>>>;
}
