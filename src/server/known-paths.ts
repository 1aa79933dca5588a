// The paths the watcher knows to exist, so it can say what a change was.
// fs.watch says 'rename' for a file created, deleted, moved, or replaced by an
// atomic save, and 'change' for new content; what was there before tells a
// creation from a replacement. Kept by directory (names, not whole paths), so
// a directory removed drops its subtree without scanning every path.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const parentOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
const nameOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);
const childOf = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

export class KnownPaths {
  /** Directory ('' is the root) -> the names known in it. */
  readonly #children = new Map<string, Set<string>>();

  has(rel: string): boolean {
    return this.#children.get(parentOf(rel))?.has(nameOf(rel)) ?? false;
  }

  add(rel: string): void {
    const dir = parentOf(rel);
    let names = this.#children.get(dir);
    if (names === undefined) this.#children.set(dir, (names = new Set()));
    names.add(nameOf(rel));
  }

  /** Forgets `rel` and, if it was a directory, everything below it. */
  remove(rel: string): void {
    this.#children.get(parentOf(rel))?.delete(nameOf(rel));
    const stack = [rel];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const names = this.#children.get(dir);
      if (names === undefined) continue;
      this.#children.delete(dir);
      for (const name of names) stack.push(childOf(dir, name));
    }
  }

  /** Learns the tree under `root` as it is now (symlinks not followed), leaving out what `ignored` names. */
  scan(root: string, ignored: (rel: string) => boolean): void {
    const stack = [''];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let entries;
      try {
        entries = readdirSync(dir === '' ? root : join(root, ...dir.split('/')), { withFileTypes: true });
      } catch {
        continue; // gone meanwhile, or unreadable: its events will say what it is
      }
      for (const entry of entries) {
        const rel = childOf(dir, entry.name);
        if (ignored(rel)) continue;
        this.add(rel);
        if (entry.isDirectory()) stack.push(rel);
      }
    }
  }
}
