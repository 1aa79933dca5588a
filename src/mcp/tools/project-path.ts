// An agent's path input made a project path before any request is made, so
// a path that leaves the project is refused with a hint and nothing happens.
// Lexical only: the daemon confines again on the real filesystem (symlinks,
// .git) when it touches the file (server/project-files.ts).
import { realpathSync } from 'node:fs';
import { isAbsolutePath } from '../../engine/path-pattern.ts';
import { normalizePathPattern } from '../../engine/paths.ts';
import { refusal } from './refusals.ts';

/** Each root's forms, resolved once per root. */
const rootForms = new Map<string, string[]>();

/** Roots an absolute path may start with: the root as named and as resolved. */
function roots(root: string | null): string[] {
  if (root === null) return [];
  let out = rootForms.get(root);
  if (out !== undefined) return out;
  out = [root.replace(/\/+$/, '')];
  try {
    const real = realpathSync.native(root);
    if (!out.includes(real)) out.push(real);
  } catch {
    // the root as named is all we have
  }
  rootForms.set(root, out);
  return out;
}

/**
 * An agent's path or glob made relative to the project root: absolute paths
 * under the root are accepted, `.` and `..` are resolved lexically, and
 * anything that leaves the project is OUTSIDE_ROOT.
 */
export function relativePath(input: string, root: string | null, what = 'path'): string {
  const outside = (why: string) =>
    refusal('OUTSIDE_ROOT', `${what} ${JSON.stringify(input)} ${why}`, `use a path relative to the project root${root === null ? '' : ` (${root})`}; nothing was changed`, { path: input });
  if (input.includes('\0')) throw outside('contains a NUL byte');
  let p = input;
  // Agents also write ~/x for their home directory: never a project path either.
  if (isAbsolutePath(p) || p.startsWith('~')) {
    const base = roots(root).find((r) => p === r || p.startsWith(r + '/'));
    if (base === undefined) throw outside('is outside the project');
    p = p.slice(base.length + 1);
  }
  const segments: string[] = [];
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) throw outside('leaves the project');
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  if (segments.length === 0) {
    throw refusal('INVALID_ARGUMENT', `${what} ${JSON.stringify(input)} names the project root itself`, 'name a file or directory, or the glob "**" for the whole project; nothing was changed', { path: input });
  }
  return segments.join('/');
}

/** An agent's path pattern made relative to the project root and normalized. */
export function pattern(input: string, root: string | null): string {
  return normalizePathPattern(relativePath(input, root, 'path pattern'));
}
