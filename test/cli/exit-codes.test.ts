// The exit codes docs/cli.md and `baton --help` promise are the ones the code
// has (ExitCode), and commands exit with them: real baton processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../src/cli/command.ts';
import { root } from '../../support/paths.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, start, tempDir } from '../helpers/procs.ts';

const docs = readFileSync(join(root, 'docs/cli.md'), 'utf8');

test('docs/cli.md and baton --help list exactly the exit codes the code defines', async () => {
  const section = docs.slice(docs.indexOf('## Exit codes'), docs.indexOf('\n## ', docs.indexOf('## Exit codes') + 1));
  const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  const defined = Object.values(ExitCode);
  assert.deepEqual(documented, [...defined].sort((a, b) => a - b));
  const help = (await baton(['--help'])).stdout;
  const line = help.slice(help.indexOf('Exit codes:'));
  assert.deepEqual([...line.matchAll(/(?:: |, )(\d+) /g)].map((m) => Number(m[1])), documented, line);
});

test('commands exit as documented: 0, 1, 2 (also a bare group), 3, 75 (also a second serve), run: its command', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'baton-exit-');
  const db = join(dir, 'baton.db');
  const lockPath = join(dir, 'resource');
  const holder = start(process.execPath, [join(root, 'src/cli/main.ts'), 'run', '--lock', lockPath, '--', process.execPath, '-e', "console.log('holding'); setTimeout(() => {}, 60_000)"]);
  t.after(() => holder.child.kill('SIGTERM'));
  await holder.line('holding', 30_000);
  await baton(['lease', 'acquire', 'k', '--owner', 'a', '--db', db]);
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const daemon = await startDaemon(stateDir);
  t.after(() => daemon.stop());

  // [exit code, baton's arguments, what it shows, where docs/cli.md states that code (its first group), if it does]
  const cases: Array<[number, string[], string, RegExp?]> = [
    [ExitCode.ok, ['--help'], 'help'],
    [ExitCode.failure, ['task', 'show', '99', '--db', db], 'NOT_FOUND'],
    [ExitCode.failure, ['lease', 'release', 'k', '--token', '1', '--db', db], 'STALE_TOKEN', /`lease release <key> --token <n>` \| .*`STALE_TOKEN`, exit (\d+)/],
    [ExitCode.usage, ['frob'], 'unknown command'],
    [ExitCode.usage, ['task'], 'a group without its action', /^\| (\d+) \| .*a command group without its action/m],
    [ExitCode.usage, [], 'baton alone', /^\| (\d+) \| .*`baton` alone/m],
    [ExitCode.kept, ['lock', 'remove', lockPath], 'a live holder kept', /A live holder is kept \(exit (\d+)\)/],
    [ExitCode.notAcquired, ['lease', 'acquire', 'k', '--owner', 'b', '--timeout', '0', '--db', db], 'LOCKED', /Exit (\d+) if not had, with a line naming the holder/],
    [ExitCode.notAcquired, ['serve', '--state-dir', stateDir], 'a second serve', /A second `serve` for the same state directory[^.]*? exits (\d+)/],
    [ExitCode.notAcquired, ['run', '--lock', lockPath, '--timeout', '0', '--', 'true'], 'run: not had', /`--conflict-exit-code <n>` \| exit code when the lock (?:or a reservation )?is not had \(default (\d+)\)/],
    [9, ['run', '--lock', lockPath, '--timeout', '0', '--conflict-exit-code', '9', '--', 'true'], 'run --conflict-exit-code'],
    [7, ['run', '--lock', join(dir, 'other'), '--', process.execPath, '-e', 'process.exit(7)'], "run: the command's own"],
    [127, ['run', '--lock', join(dir, 'other'), '--', join(dir, 'no-such-command')], 'run: not found', /(\d+) if it was not found/],
  ];
  const results = await Promise.all(cases.map(([, args]) => baton(args)));
  results.forEach((r, i) => {
    const [code, args, why, where] = cases[i]!;
    if (where !== undefined) assert.equal(Number(where.exec(docs)?.[1]), code, `docs/cli.md states ${code} for ${why}: ${where}`);
    assert.equal(r.code, code, `${why}: baton ${args.join(' ')} exits ${code}; stderr: ${r.stderr}`);
  });
  // The second serve names the one that runs.
  assert.match(results[8]!.stderr, /^baton: a daemon already serves .*\(pid \d+/);
});
