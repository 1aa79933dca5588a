// Path confinement: what a request's path names under a worktree root, with
// symlinks followed, and whether baton may touch it at all.
//
// Policies (the daemon's error codes):
// - OUTSIDE_ROOT: an empty path, a NUL byte, '..' that leaves the root, an
//   absolute path outside it, the root itself, or a path that reaches outside
//   through a symlink: of any existing ancestor, or of the final component
//   (followed to its end, dangling links included).
// - PERMISSION_DENIED: anything inside a `.git` directory (any segment named
//   `.git`, in any case, also nested repositories and submodules) and inside
//   the protected directories (by default the watcher's `ignore` dirs: the
//   state dir). Reads are refused there too: .git/config may hold credentials.
// - Symlinks. Ancestors are resolved: `link/a.ts`, where `link -> src`, is
//   `src/a.ts`, and `rel` (what leases are matched against) is that canonical
//   path, so a link cannot be used to write under someone else's lease. The
//   final component is never followed by a write: writeFileAtomic would write
//   the link's target, whose path the lease was not checked against, so
//   `write` refuses a symlink with PERMISSION_DENIED and names its target.
//   `read` follows it (its target is confined like any path); `delete` and
//   `rename` act on the link itself (unlink and rename do not follow).
// - Races: a directory swapped for a symlink between the check and the
//   syscall is not caught (there is no openat(2) in Node). The check is
//   against agents' mistakes and against paths they were handed, not against
//   a hostile process already writing inside the root.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isAbsolutePath } from '../engine/path-pattern.ts';
import { BatonError, errnoCode, fsError } from '../errors.ts';

/** Symlinks followed while resolving one path before giving up (Linux's own limit). */
const MAX_LINK_HOPS = 40;

export interface ResolvedPath {
  /** The canonical absolute path (ancestors resolved, the final component as named). */
  abs: string;
  /** Relative to the root, '/'-separated: what lease patterns are matched against. */
  rel: string;
}

export interface Located extends ResolvedPath {
  /** The final component is a symlink; `target` is where it ends, relative to the root. */
  link: { target: string } | undefined;
}

function outside(path: unknown, reason: string, details: Record<string, unknown> = {}): BatonError {
  return new BatonError('OUTSIDE_ROOT', `path ${JSON.stringify(path)} ${reason}`, { details: { path, ...details } });
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** True when `p` is strictly below `root` (both absolute and normalized). */
export function isBelow(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== '' && r !== '..' && !r.startsWith('..' + sep) && !isAbsolute(r);
}

function isAtOrBelow(root: string, p: string): boolean {
  return p === root || isBelow(root, p);
}

/** `rel` is `dir` or below it ('/'-separated relative paths). */
export function under(rel: string, dir: string): boolean {
  return rel === dir || rel.startsWith(dir + '/');
}

/**
 * Where `p` really is: every symlink followed, dangling ones too, and the
 * missing tail appended as named. Throws for a loop or an unreadable directory.
 */
function canonical(p: string, hops: { n: number }): string {
  try {
    return realpathSync.native(p);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ELOOP') throw new BatonError('INVALID_ARGUMENT', `cannot resolve ${p}: too many levels of symbolic links`, { cause: error, details: { path: p } });
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(error, 'resolve', p);
  }
  const parent = dirname(p);
  if (parent === p) return p;
  const realParent = canonical(parent, hops);
  const candidate = join(realParent, basename(p));
  let isLink: boolean;
  try {
    isLink = lstatSync(candidate).isSymbolicLink();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return candidate;
    throw fsError(error, 'resolve', candidate);
  }
  if (!isLink) return candidate; // created since realpath failed
  if (++hops.n > MAX_LINK_HOPS) throw new BatonError('INVALID_ARGUMENT', `cannot resolve ${p}: too many levels of symbolic links`, { details: { path: p } });
  let target: string;
  try {
    target = readlinkSync(candidate);
  } catch (error) {
    if (errnoCode(error) === 'EINVAL' || errnoCode(error) === 'ENOENT') return canonical(candidate, hops); // replaced meanwhile
    throw fsError(error, 'resolve', candidate);
  }
  return canonical(resolve(realParent, target), hops);
}

/** The real path of a project root, which must be a directory. */
export function realRoot(root: string): string {
  let real: string;
  try {
    real = realpathSync.native(resolve(root));
  } catch (error) {
    throw fsError(error, 'resolve project root', root);
  }
  let isDir = false;
  try {
    isDir = lstatSync(real).isDirectory();
  } catch (error) {
    throw fsError(error, 'stat project root', real);
  }
  if (!isDir) throw new BatonError('INVALID_ARGUMENT', `the project root ${real} is not a directory`, { details: { path: real } });
  return real;
}

/** Absolute directories as canonical paths relative to `root` (a real path); those outside it are dropped. */
export function dirsBelow(root: string, dirs: string[], what: string): string[] {
  if (!Array.isArray(dirs)) throw new BatonError('INVALID_ARGUMENT', `${what} must be an array of absolute directories`);
  const out: string[] = [];
  for (const dir of dirs) {
    if (typeof dir !== 'string' || !isAbsolute(dir)) throw new BatonError('INVALID_ARGUMENT', `${what} entries must be absolute directories, got ${JSON.stringify(dir)}`);
    const real = canonical(resolve(dir), { n: 0 });
    if (isBelow(root, real)) out.push(toPosix(relative(root, real)));
  }
  return out;
}

export class Confinement {
  /** The real path of the project root. */
  readonly root: string;
  readonly #protect: string[];

  /** `root` as realRoot returns it; `protect` as dirsBelow returns them. */
  constructor(root: string, protect: string[]) {
    this.root = root;
    this.#protect = protect;
  }

  /** Confines a path (relative to the root, or absolute inside it); see the policies at the top of this file. */
  resolve(relPath: string): ResolvedPath {
    const { abs, rel } = this.locate(relPath);
    return { abs, rel };
  }

  /** As `resolve`, and whether the final component is a symlink (and where it ends). */
  locate(input: string): Located {
    if (typeof input !== 'string') throw new BatonError('INVALID_ARGUMENT', `a path must be a string, got ${typeof input}`, { details: { path: input } });
    if (input === '') throw outside(input, 'is empty; name a file relative to the project root');
    if (input.includes('\0')) throw outside(input, 'contains a NUL byte');
    // A Windows drive (C:/x) names no file in the project, on any system: the rule every surface applies.
    if (!isAbsolute(input) && isAbsolutePath(input)) throw outside(input, `is outside the project root ${this.root}`, { root: this.root });
    let lexical: string;
    if (isAbsolute(input)) {
      lexical = resolve(input);
    } else {
      lexical = resolve(this.root, input);
      if (!isAtOrBelow(this.root, lexical)) throw outside(input, "leaves the project root through '..'", { root: this.root });
    }
    const hops = { n: 0 };
    const parent = dirname(lexical);
    if (parent === lexical) throw outside(input, `is outside the project root ${this.root}`, { root: this.root });
    const abs = join(canonical(parent, hops), basename(lexical));
    if (abs === this.root) throw outside(input, 'is the project root itself; name a file inside it', { root: this.root });
    if (!isBelow(this.root, abs)) {
      const via = isAbsolute(input) && !isAtOrBelow(this.root, lexical) ? '' : ` (through a symbolic link it is ${abs})`;
      throw outside(input, `is outside the project root ${this.root}${via}`, { root: this.root, resolved: abs });
    }
    const rel = toPosix(relative(this.root, abs));
    let link: Located['link'];
    let isLink = false;
    try {
      isLink = lstatSync(abs).isSymbolicLink();
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(error, 'stat', rel);
    }
    if (isLink) {
      const end = canonical(abs, hops);
      if (!isAtOrBelow(this.root, end)) {
        throw outside(input, `is a symbolic link to ${end}, outside the project root ${this.root}`, { root: this.root, resolved: end });
      }
      link = { target: toPosix(relative(this.root, end)) };
      this.#checkProtected(input, link.target);
    }
    this.#checkProtected(input, rel);
    return { abs, rel, link };
  }

  #checkProtected(input: string, rel: string): void {
    if (rel.split('/').some((s) => s.toLowerCase() === '.git')) {
      throw new BatonError('PERMISSION_DENIED', `path ${JSON.stringify(input)} is inside a .git directory (${rel}); baton does not touch git's files: use git (e.g. baton git -- ...)`, {
        details: { path: input, resolved: rel },
      });
    }
    const dir = this.#protect.find((d) => under(rel, d));
    if (dir !== undefined) {
      throw new BatonError('PERMISSION_DENIED', `path ${JSON.stringify(input)} is inside ${dir}, which baton keeps for itself`, { details: { path: input, resolved: rel, protected: dir } });
    }
  }
}
