// A real Node.js older than baton needs, for the runtime check's tests: the
// first one on PATH (or in the usual system directories) whose major is lower.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MIN_NODE_MAJOR } from '../../src/node-version.ts';

export interface OldNode {
  path: string;
  /** Its version without the v, e.g. "20.20.2". */
  version: string;
}

let found: OldNode | null | undefined;

/** An installed Node older than MIN_NODE_MAJOR, or undefined when this machine has none. */
export function oldNode(): OldNode | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/bin'];
  for (const dir of new Set(dirs.filter((d) => d !== ''))) {
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
      const version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim().replace(/^v/, '');
      if (Number.parseInt(version, 10) < MIN_NODE_MAJOR) {
        found = { path, version };
        break;
      }
    } catch {
      // not there, or not a Node that runs
    }
  }
  return found ?? undefined;
}
