// mkdir -p. Node's own recursive mkdirSync spins for ever on some paths
// (a missing directory under /proc, seen with Node 24), so create each
// missing level ourselves, top down.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../errors.ts';

export function makeDirectories(dir: string, mode = 0o777): void {
  try {
    mkdirSync(dir, { mode });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    makeDirectories(parent, mode);
    try {
      mkdirSync(dir, { mode });
    } catch (again) {
      if (errnoCode(again) !== 'EEXIST') throw again;
    }
  }
}
