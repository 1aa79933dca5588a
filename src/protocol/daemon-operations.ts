// The daemon's own operations beside the Coordinator's: files under the
// project root, changed only by the holder of a covering path lease, and git
// under the `git` lease; each in the worktree the request names.
import { z } from 'zod';
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '../limits.ts';
import { leaseRef } from '../schema/leases.ts';
import { idempotencyKey, path } from '../schema/fields.ts';

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

/** What the daemon serves beside the Coordinator, one body in, one result out. */
export interface DaemonOperations {
  writeFile(body: z.infer<typeof writeFileBody>): Promise<FileResult>;
  deleteFile(body: z.infer<typeof deleteFileBody>): Promise<FileResult>;
  renameFile(body: z.infer<typeof renameFileBody>): Promise<FileResult>;
  readFile(body: z.infer<typeof readFileBody>): Promise<z.infer<typeof readFileResult>>;
  gitStatus(body: z.infer<typeof gitStatusBody>): Promise<z.infer<typeof gitStatusResult>>;
  gitCommit(body: z.infer<typeof gitCommitBody>): Promise<z.infer<typeof gitCommitResult>>;
}
