// File writes under the agent's own reservation: each tool finds the
// exclusive reservation covering its paths itself, and a refused write comes
// back with what to do next (reserve, leave it to the holder, re-read).
import { z } from 'zod';
import type { Lease } from '../../coordinator.ts';
import { BatonError, isBatonError } from '../../errors.ts';
import { pathCovers } from '../../engine/paths.ts';
import { PATH_PREFIX } from '../../limits.ts';
import type { AgentState } from './agent.ts';
import { projectPath } from './inputs.ts';
import { relativePath } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool } from './tool.ts';

function exclusivePathLeases(agent: AgentState): Lease[] {
  return [...agent.leases.values()].filter((l) => l.key.startsWith(PATH_PREFIX) && l.mode === 'exclusive');
}

/** The agent's exclusive reservation covering every one of `paths`, if it holds one. */
function coveringLease(agent: AgentState, paths: string[]): Lease | undefined {
  return exclusivePathLeases(agent).find((l) => paths.every((p) => pathCovers(l.key.slice(PATH_PREFIX.length), p)));
}

/** What to tell an agent whose write was refused. */
function writeHint(error: BatonError, agent: AgentState, paths: string[], lease: Lease | undefined): string {
  const list = JSON.stringify(paths);
  if (error.code === 'STALE_TOKEN' || error.code === 'LEASE_EXPIRED') {
    if (lease !== undefined) agent.leases.delete(lease.key);
    return `your reservation ${lease?.key ?? ''} lapsed or was released; call reserve_paths with ${list} again and re-read the file before writing (someone else may have changed it)`;
  }
  if (error.code === 'LEASE_REQUIRED') {
    const holders = (error.details.holders as Array<{ owner: string }> | undefined) ?? [];
    const shared = [...agent.leases.values()].some((l) => l.key.startsWith(PATH_PREFIX) && l.mode === 'shared' && paths.every((p) => pathCovers(l.key.slice(PATH_PREFIX.length), p)));
    if (holders.length > 0 && !shared) return `another agent has reserved it: do not write around the reservation; work on something else, or call reserve_paths with wait_seconds to queue for it (list_reservations shows who and why)`;
    if (shared) return `your reservation is shared (read-only); release it and call reserve_paths with ${list} and mode "exclusive"`;
    return `call reserve_paths with ${list} first, then retry`;
  }
  return '';
}

/** Runs the daemon's file operation, adding writeHint's hint to a refusal that has none. */
async function callFile<T>(agent: AgentState, paths: string[], lease: Lease | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isBatonError(error)) {
      const hint = writeHint(error, agent, paths, lease);
      if (hint !== '' && error.details.hint === undefined) throw new BatonError(error.code, error.message, { details: { ...error.details, hint } });
    }
    throw error;
  }
}

export const writeFile = tool({
  name: 'write_file',
  title: 'Write a file under your reservation',
  description:
    'Create or replace a file atomically (all or nothing, even if you crash mid-way). You must hold an exclusive reservation covering the path (reserve_paths first); it is found automatically. If refused with LEASE_REQUIRED, the message names who holds the path: do not write it another way; reserve it, or leave it to them. Paths are relative to the project root.',
  input: z.strictObject({
    path: projectPath.describe('The file, relative to the project root.'),
    content: z.string().max(1 << 20).describe('The whole new content.'),
    encoding: z.enum(['utf8', 'base64']).optional().describe('"utf8" (default), or "base64" for binary content.'),
  }),
  annotations: { destructiveHint: true, idempotentHint: true },
  async run(args, ctx) {
    const rel = relativePath(args.path, ctx.backend.root);
    const data = args.encoding === 'base64' ? Buffer.from(args.content, 'base64') : args.content;
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [rel]);
    const result = await callFile(ctx.agent, [rel], lease, () => ctx.backend.writeFile(rel, data, lease, ctx.agent.name));
    return { written: result.path, bytes: result.size ?? null, under: lease?.key ?? null };
  },
});

export const deleteFile = tool({
  name: 'delete_file',
  title: 'Delete a file under your reservation',
  description:
    'Delete a file. Needs an exclusive reservation covering it (reserve_paths first), found automatically. A LEASE_REQUIRED refusal names the holder: leave the file to them or reserve it.',
  input: z.strictObject({ path: projectPath.describe('The file, relative to the project root.') }),
  annotations: { destructiveHint: true },
  async run(args, ctx) {
    const rel = relativePath(args.path, ctx.backend.root);
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [rel]);
    const result = await callFile(ctx.agent, [rel], lease, () => ctx.backend.deleteFile(rel, lease, ctx.agent.name));
    return { deleted: result.path };
  },
});

export const renameFile = tool({
  name: 'rename_file',
  title: 'Move or rename a file under your reservation',
  description:
    'Move or rename a file atomically. Needs one exclusive reservation covering both the old and the new path (e.g. reserve "src/util" to move files inside it). A LEASE_REQUIRED refusal names the holder.',
  input: z.strictObject({
    from: projectPath.describe('The current path, relative to the project root.'),
    to: projectPath.describe('The new path, relative to the project root.'),
  }),
  annotations: { destructiveHint: true },
  async run(args, ctx) {
    const from = relativePath(args.from, ctx.backend.root);
    const to = relativePath(args.to, ctx.backend.root);
    await ctx.agent.session();
    const lease = coveringLease(ctx.agent, [from, to]);
    if (lease === undefined && exclusivePathLeases(ctx.agent).some((l) => pathCovers(l.key.slice(PATH_PREFIX.length), from) || pathCovers(l.key.slice(PATH_PREFIX.length), to))) {
      throw refusal('LEASE_REQUIRED', `renaming ${JSON.stringify(from)} to ${JSON.stringify(to)} needs one exclusive reservation covering both paths; yours cover only one`, `call reserve_paths with a directory or glob covering both (e.g. their common directory), then retry`, { from, to });
    }
    const result = await callFile(ctx.agent, [from, to], lease, () => ctx.backend.renameFile(from, to, lease, ctx.agent.name));
    return { renamed: result.from ?? from, to: result.path };
  },
});
