// baton task complete --artifact: a commit named as git names it, a file
// hashed by the CLI, a url and small JSON are stored with the task; task show
// lists them, task list --artifact finds the task; bad ones change nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

test('task complete --artifact stores commit, file, url and json artifacts; show lists them; list --artifact finds the task', { timeout: 300_000 }, async (t) => {
  const repo = tempDir(t);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'first');
  const head = git('rev-parse', 'HEAD');
  const content = 'built output\n'.repeat(1000);
  writeFileSync(join(repo, 'out.txt'), content);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const db = join(tempDir(t), 'b.db');
  const run = (...args: string[]): Promise<Finished> => baton([...args, '--db', db], { cwd: repo });
  const ok = (r: Finished): Finished => {
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  const added = JSON.parse(ok(await run('task', 'add', 'build', '--json')).stdout) as { id: number };
  const [claim] = JSON.parse(ok(await run('task', 'claim', '--json')).stdout) as Array<{ taskId: number; token: number }>;
  const id = String(added.id);
  const token = String(claim!.token);

  // Refused before anything is sent, or by the engine: the task stays claimed, with no artifacts.
  const unknown = await run('task', 'complete', id, '--token', token, '--artifact', 'blob:x');
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /"blob:x".*INVALID_ARGUMENT/);
  const notHex = await run('task', 'complete', id, '--token', token, '--artifact', 'commit:nonesuch-zz');
  assert.equal(notHex.code, 2, notHex.stderr);
  assert.match(notHex.stderr, /nonesuch-zz.*INVALID_ARGUMENT/);
  const tooBig = await run('task', 'complete', id, '--token', token, '--artifact', `commit:${head}`, '--artifact', `json:"${'x'.repeat(17_000)}"`);
  assert.equal(tooBig.code, 2, tooBig.stderr);
  assert.match(tooBig.stderr, /artifacts\[1\]\.value is \d+ bytes.*16384.*INVALID_ARGUMENT/);
  const still = JSON.parse(ok(await run('task', 'show', id, '--json')).stdout) as { status: string; artifacts: unknown[] };
  assert.deepEqual([still.status, still.artifacts], ['claimed', []]);

  const done = ok(await run('task', 'complete', id, '--token', token, '--artifact', 'commit:HEAD', '--artifact', 'file:out.txt', '--artifact', 'url:https://ci.example/7', '--artifact', 'json:{"tests":3}'));
  assert.match(done.stdout, /done/);
  const shown = ok(await run('task', 'show', id)).stdout;
  assert.match(shown, new RegExp(`artifacts:\\n  commit  ${head}\\n  file    out.txt  sha256:${sha256}\\n  url     https://ci.example/7\\n  json    \\{"tests":3\\}\\n$`));
  const found = (r: Finished): number[] => (JSON.parse(r.stdout) as Array<{ id: number }>).map((task) => task.id);
  assert.deepEqual(found(ok(await run('task', 'list', '--artifact', head.slice(0, 7), '--json'))), [added.id], 'a sha prefix finds it');
  assert.deepEqual(found(ok(await run('task', 'list', '--artifact', sha256, '--json'))), [added.id], 'the file content hash finds it');
  assert.match(ok(await run('task', 'list', '--artifact', 'out.txt')).stdout, /build/);
  assert.equal(ok(await run('task', 'list', '--artifact', 'elsewhere.txt')).stdout, 'no tasks\n');
});
