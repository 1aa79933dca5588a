// Files through the daemon, enforced at write time: a write, delete or rename
// is accepted only from the holder of a live exclusive path lease covering
// every path it touches, presenting that lease's current fencing token. The
// changes to one path are made one at a time, in the order they arrived.
import type { Coordinator, LeaseRef } from '../coordinator.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import { pathPatternFor } from '../engine/paths.ts';
import { assertCovered, explainMissing } from './path-leases.ts';
import type { Worktrees } from './worktrees.ts';

/** Larger files are read directly from disk, not through the daemon. */
const MAX_READ_BYTES = 8 << 20;

export function fileOperations(coordinator: Coordinator, worktrees: Worktrees): Pick<DaemonOperations, 'writeFile' | 'deleteFile' | 'renameFile' | 'readFile'> {
  // Between the last `covered` and the change there must be no I/O wait: the
  // rename (or unlink) follows the check in the same turn, so no request
  // arriving after the check is served before it, and a later holder's write
  // cannot land before this one (docs/daemon.md). A write's bytes are staged
  // before that check, on the thread pool, so a large one blocks nobody.
  const tails = new Map<string, Promise<unknown>>();
  /** `a` is `b`, or one is inside the other (a directory rename moves what is staged below it). */
  const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  /** Runs `fn` once every change already queued for any of `paths`, or a path above or below one, is done. */
  async function inOrder<T>(root: string, paths: string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(paths)].map((p) => `${root}\0${p}`);
    // Only changes in flight are in the map, so the scan is short.
    const before = [...tails].filter(([k]) => keys.some((mine) => overlaps(mine, k))).map(([, tail]) => tail);
    const run = Promise.allSettled(before).then(fn);
    const tail = run.catch(() => undefined);
    for (const k of keys) tails.set(k, tail);
    try {
      return await run;
    } finally {
      for (const k of keys) if (tails.get(k) === tail) tails.delete(k);
    }
  }
  async function covered(rel: string, lease: LeaseRef | undefined, action: string): Promise<string> {
    if (lease === undefined) throw await explainMissing(coordinator, rel, { action });
    const held = await assertCovered(coordinator, rel, lease, { action });
    return held.owner;
  }
  async function changed(worktree: string, path: string, kind: string, actor: string | null, extra: Record<string, unknown> = {}): Promise<void> {
    await coordinator.publish({ type: 'fs.changed', key: `path:${pathPatternFor(path)}`, actor, data: { path, kind, source: 'baton', worktree, ...extra } });
  }
  return {
    async writeFile(body) {
      const { root, files } = worktrees.get(body.worktree);
      const { rel } = files.resolve(body.path);
      const lease = body.lease;
      const data = body.base64 !== undefined ? Buffer.from(body.base64, 'base64') : (body.content ?? '');
      // Checked before any byte is written (a clear refusal), and again right before the rename.
      const owner = await inOrder(root, [rel], async () => {
        const holder = await covered(rel, lease, 'writing');
        await files.write(rel, data, { beforeCommit: () => covered(rel, lease, 'writing') });
        return holder;
      });
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      await changed(root, rel, 'write', body.actor ?? owner, { size });
      return { path: rel, size };
    },
    async deleteFile(body) {
      const { root, files } = worktrees.get(body.worktree);
      const { rel } = files.resolve(body.path);
      const owner = await inOrder(root, [rel], async () => {
        const holder = await covered(rel, body.lease, 'deleting');
        await files.delete(rel);
        return holder;
      });
      await changed(root, rel, 'delete', body.actor ?? owner);
      return { path: rel };
    },
    async renameFile(body) {
      const { root, files } = worktrees.get(body.worktree);
      const from = files.resolve(body.from).rel;
      const to = files.resolve(body.to).rel;
      const lease = body.lease;
      const owner = await inOrder(root, [from, to], async () => {
        const holder = await covered(from, lease, 'renaming');
        await covered(to, lease, 'renaming');
        await files.rename(from, to);
        return holder;
      });
      const actor = body.actor ?? owner;
      await changed(root, from, 'rename', actor, { to });
      await changed(root, to, 'rename', actor, { from });
      return { path: to, from };
    },
    async readFile(body) {
      const { files } = worktrees.get(body.worktree);
      const { rel } = files.resolve(body.path);
      const data = await files.read(rel, { maxBytes: MAX_READ_BYTES });
      return body.encoding === 'base64' ? { path: rel, base64: data.toString('base64'), size: data.length } : { path: rel, content: data.toString('utf8'), size: data.length };
    },
  };
}
