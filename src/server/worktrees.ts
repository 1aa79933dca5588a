// The worktrees one daemon serves. Every worktree of a git repository shares
// the state directory, and so the daemon: a client names its own worktree (the
// SDK sends the top level of its working directory) and its file and git
// operations act there, each worktree with its own confinement and watcher.
import { realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { BatonError } from '../errors.ts';
import { gitCommonDir, gitToplevel } from '../project/state-dir.ts';
import { ProjectFiles } from './project-files.ts';
import type { FileWatch } from './project-watch.ts';

export interface Worktree {
  /** The worktree's top level, canonical. */
  root: string;
  files: ProjectFiles;
}

function canonicalCommonDir(toplevel: string): string | undefined {
  try {
    return realpathSync(gitCommonDir(toplevel));
  } catch {
    return undefined;
  }
}

export class Worktrees {
  /** The worktree the daemon was started in: the one a request that names none acts on. */
  readonly main: Worktree;
  readonly #ignore: string[];
  readonly #common: string | undefined;
  readonly #byRoot = new Map<string, Worktree>();
  readonly #watches: FileWatch[] = [];
  #watch: ((worktree: Worktree) => FileWatch | undefined) | undefined;

  constructor(root: string, options: { ignore: string[] }) {
    this.#ignore = options.ignore;
    this.main = this.#open(root);
    const toplevel = gitToplevel(this.main.root);
    this.#common = toplevel === this.main.root ? canonicalCommonDir(toplevel) : undefined;
  }

  /**
   * The worktree a request names (an absolute path), or the main one when it
   * names none. Another worktree of the same repository is opened on first
   * use; anything else is OUTSIDE_ROOT.
   */
  get(named: unknown): Worktree {
    if (named === undefined || named === null) return this.main;
    if (typeof named !== 'string' || !isAbsolute(named)) {
      throw new BatonError('INVALID_ARGUMENT', `worktree must be an absolute path, got ${JSON.stringify(named)}`, { details: { worktree: named } });
    }
    let root: string;
    try {
      root = realpathSync(named);
    } catch {
      throw new BatonError('OUTSIDE_ROOT', `worktree ${JSON.stringify(named)} does not exist`, { details: { worktree: named } });
    }
    const known = root === this.main.root ? this.main : this.#byRoot.get(root);
    if (known !== undefined) return known;
    if (this.#common === undefined || gitToplevel(root) !== root || canonicalCommonDir(root) !== this.#common) {
      throw new BatonError(
        'OUTSIDE_ROOT',
        `${JSON.stringify(named)} is not a worktree of the repository this daemon serves (${this.main.root}${this.#common === undefined ? ', which is not a git repository' : ''})`,
        { details: { worktree: named, root: this.main.root } },
      );
    }
    const worktree = this.#open(root);
    this.#byRoot.set(root, worktree);
    this.#startWatch(worktree);
    return worktree;
  }

  /** Watches the main worktree now and every other one as it is opened. */
  watchAll(watch: (worktree: Worktree) => FileWatch | undefined): void {
    this.#watch = watch;
    this.#startWatch(this.main);
    for (const worktree of this.#byRoot.values()) this.#startWatch(worktree);
  }

  close(): void {
    this.#watch = undefined;
    for (const w of this.#watches.splice(0)) w.close();
  }

  #open(root: string): Worktree {
    const files = new ProjectFiles({ root, ignore: this.#ignore });
    return { root: files.root, files };
  }

  #startWatch(worktree: Worktree): void {
    const handle = this.#watch?.(worktree);
    if (handle !== undefined) this.#watches.push(handle);
  }
}
