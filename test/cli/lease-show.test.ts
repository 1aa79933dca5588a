// lease show tells the truth about paths: for a path: key, every reservation
// whose paths overlap it (covering it, inside it, in part), each named with
// its relation, and "free" only when an exclusive acquire would not wait.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

function oneLine(r: Finished, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
}

test('lease show on a path: covering, covered and partly overlapping reservations, each named; free only when nothing overlaps', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'b.db');
  const run = (args: string[]): Promise<Finished> => baton([...args, '--db', db]);
  for (const [key, owner] of [['path:src/auth/**', 'a'], ['path:docs/a.md', 'b'], ['path:docs/*.md', 'c']] as const) {
    const r = await run(['lease', 'acquire', key, '--owner', owner, '--shared']);
    assert.equal(r.code, 0, r.stderr);
  }
  const relations = async (key: string): Promise<string[][]> => {
    const view = JSON.parse((await run(['lease', 'show', key, '--json'])).stdout) as { holders: Array<{ key: string; relation: string }> };
    return view.holders.map((h) => [h.key, h.relation]);
  };
  assert.deepEqual(await relations('path:src/auth/login.ts'), [['path:src/auth/**', 'covers it']]);
  assert.deepEqual(await relations('path:src/**'), [['path:src/auth/**', 'inside it']]);
  assert.deepEqual((await relations('path:docs/**')).sort(), [['path:docs/*.md', 'inside it'], ['path:docs/a.md', 'inside it']]);
  assert.deepEqual((await relations('path:docs/a*')).sort(), [['path:docs/*.md', 'overlaps it'], ['path:docs/a.md', 'inside it']]);
  assert.deepEqual(await relations('path:src/auth'), [['path:src/auth/**', 'same paths']]);
  assert.deepEqual(await relations('path:src/auth/**'), [['path:src/auth/**', 'this key']]);
  const free = await run(['lease', 'show', 'path:lib/x.ts']);
  assert.equal(free.stdout, '"path:lib/x.ts": free\n');
  // Shared holders: held (shared), and an exclusive acquire waits for them, naming one.
  const shared = await run(['lease', 'show', 'path:src/auth/login.ts']);
  assert.match(shared.stdout, /^"path:src\/auth\/login\.ts": held \(shared\) through an overlapping reservation\n/);
  oneLine(await run(['lease', 'acquire', 'path:docs/a.md', '--timeout', '0']), 75, /"path:docs\/a\.md" is held by "b" \(shared on path:docs\/a\.md\) \[LOCKED\]/);
  // A non-path key is only itself.
  assert.equal((await run(['lease', 'show', 'deploy'])).stdout, '"deploy": free\n');
});
