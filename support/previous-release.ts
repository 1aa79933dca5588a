// The previous release's source, for benches that compare against it in the
// same run: read out of git (git archive: no checkout, the repository's state
// untouched) into a temp directory, with this checkout's node_modules linked in.
// Node runs its .ts directly, so no build. Without git or the commit (a clone
// without history), says why instead of failing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The last landed stop before issue 34: the one place its id is written. */
export const PREVIOUS_RELEASE = 'e91b067afc0922b12886b1b66412558414952e51';

const repo = new URL('..', import.meta.url).pathname;

export type Materialised = { root: string } | { skip: string };

/** Writes `commit`'s src/ and package.json under `into`; its root, or why not. */
export function materialise(into: string, commit = PREVIOUS_RELEASE): Materialised {
  const git = (args: string[], input?: Buffer) => spawnSync('git', ['-C', repo, ...args], { maxBuffer: 1 << 30, ...(input ? { input } : {}) });
  const found = git(['cat-file', '-e', `${commit}^{commit}`]);
  if (found.error !== undefined) return { skip: `git is not available (${found.error.message})` };
  if (found.status !== 0) return { skip: `commit ${commit.slice(0, 7)} is not in this clone (${String(found.stderr).trim() || 'no history?'})` };
  const archive = git(['archive', '--format=tar', commit, 'src', 'package.json']);
  if (archive.status !== 0) return { skip: `git archive ${commit.slice(0, 7)} failed: ${String(archive.stderr).trim()}` };
  const root = join(into, `baton-${commit.slice(0, 7)}`);
  mkdirSync(root, { recursive: true });
  const tar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (tar.error !== undefined || tar.status !== 0) return { skip: `tar could not unpack the archive: ${tar.error?.message ?? String(tar.stderr).trim()}` };
  if (!existsSync(join(repo, 'node_modules'))) return { skip: 'this checkout has no node_modules to lend the previous release' };
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  return { root };
}
