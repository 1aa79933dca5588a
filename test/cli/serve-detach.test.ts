// `baton serve --detach` says what it started (pid, socket, the TCP port it
// chose); with a daemon already serving the state directory it says so and
// exits 75, as a second foreground `serve` does; a daemon that cannot start
// says why. Real daemons in scratch git repositories.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDaemonProcess } from '../../src/client/open.ts';
import type { DaemonRecord } from '../../src/project/daemon-record.ts';
import { baton, sleep } from '../helpers/procs.ts';

/** Discovery as a user has it: no BATON_HOME, no database or url given. */
const env = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_HOME: '', BATON_URL: '' };

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** A scratch git repository; the daemon of its state directory (.git/baton) is stopped when the test ends, before the directory goes. */
function repo(t: TestContext): { dir: string; stateDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-detach-'));
  const stateDir = join(dir, '.git', 'baton');
  t.after(async () => {
    try {
      const { pid } = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && !processGone(pid); i++) await sleep(25);
    } catch {
      // none running
    }
    rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('git', ['init', '-q', dir]);
  return { dir, stateDir };
}

function stderrFiles(stateDir: string): string[] {
  return readdirSync(join(stateDir, 'logs')).filter((name) => name.endsWith('.stderr'));
}

test('serve --detach --listen 127.0.0.1:0 prints the pid, the socket and the port it chose (as daemon.json has them)', async (t) => {
  const { dir, stateDir } = repo(t);
  const started = await baton(['serve', '--detach', '--listen', '127.0.0.1:0'], { cwd: dir, env });
  assert.equal(started.code, 0, started.stderr);
  const record = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord;
  assert.match(record.listen ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
  assert.equal(started.stdout, `baton daemon ${record.pid} serving ${stateDir} on ${join(stateDir, 'baton.sock')} and tcp ${record.listen}\n`);
  // The port printed is the one listening.
  const port = Number(record.listen!.split(':')[1]);
  await new Promise<void>((resolve, reject) => connect(port, '127.0.0.1', function (this: Socket) {
    this.end();
    resolve();
  }).once('error', reject));
  assert.deepEqual(stderrFiles(stateDir), [`daemon-${record.pid}.stderr`], "the daemon's stderr has a file beside its log");
});

test('serve --detach --json prints the daemon record', async (t) => {
  const { dir, stateDir } = repo(t);
  const started = await baton(['serve', '--detach', '--json'], { cwd: dir, env });
  assert.equal(started.code, 0, started.stderr);
  const printed = JSON.parse(started.stdout) as DaemonRecord;
  assert.deepEqual(printed, JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')));
  assert.equal(printed.socket, join(stateDir, 'baton.sock'));
  assert.equal(printed.listen, null);
});

test('with a daemon already serving the state directory, serve --detach and a foreground serve name it and exit 75', async (t) => {
  const { dir, stateDir } = repo(t);
  const first = await baton(['serve', '--detach', '--listen', '127.0.0.1:0'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const record = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord;
  const where = `${join(stateDir, 'baton.sock')} and tcp ${record.listen}`;

  const again = await baton(['serve', '--detach'], { cwd: dir, env });
  assert.deepEqual(
    { code: again.code, stdout: again.stdout, stderr: again.stderr },
    { code: 75, stdout: '', stderr: `baton: a daemon already serves ${stateDir} (pid ${record.pid}, ${where}) [LOCKED]\n` },
  );
  const json = await baton(['serve', '--detach', '--json'], { cwd: dir, env });
  assert.equal(json.code, 75);
  assert.equal(json.stdout, '');
  assert.deepEqual(JSON.parse(json.stderr), { error: { code: 'LOCKED', message: `a daemon already serves ${stateDir} (pid ${record.pid}, ${where})` } });

  const foreground = await baton(['serve'], { cwd: dir, env });
  assert.equal(foreground.code, 75, foreground.stderr);
  assert.match(foreground.stderr, new RegExp(`^baton: a daemon already serves ${stateDir} \\(pid ${record.pid}, .*\\) \\[LOCKED\\]\\n$`));

  assert.equal((JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord).pid, record.pid, 'the first daemon still serves');
  assert.deepEqual(stderrFiles(stateDir), [`daemon-${record.pid}.stderr`], 'no daemon was started by the refused calls');
});

test('two serve --detach at once: one starts the daemon (exit 0), the other names it (exit 75)', async (t) => {
  const { dir, stateDir } = repo(t);
  const both = await Promise.all([baton(['serve', '--detach'], { cwd: dir, env }), baton(['serve', '--detach'], { cwd: dir, env })]);
  const [winner, loser] = both[0].code === 0 ? both : [both[1], both[0]];
  assert.deepEqual([winner.code, loser.code], [0, 75], `${both[0].stderr}${both[1].stderr}`);
  const pid = /^baton daemon (\d+) serving /.exec(winner.stdout)?.[1];
  assert.ok(pid !== undefined, winner.stdout);
  assert.equal(loser.stdout, '');
  assert.match(loser.stderr, new RegExp(`^baton: a daemon already serves ${stateDir} \\(pid ${pid}, `));
  assert.deepEqual(stderrFiles(stateDir), [`daemon-${pid}.stderr`], "the loser's daemon, gone, left no file");
});

test('serve --detach with a daemon that cannot start says why, and exits 1', async (t) => {
  const { dir, stateDir } = repo(t);
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => taken.close());
  const address = taken.address();
  assert.ok(typeof address === 'object' && address !== null);
  const failed = await baton(['serve', '--detach', '--listen', `127.0.0.1:${address.port}`], { cwd: dir, env });
  assert.equal(failed.code, 1, failed.stderr);
  assert.equal(failed.stdout, '');
  assert.match(failed.stderr, new RegExp(`^baton: started a daemon for ${stateDir} but it exited with code 1 before it answered: cannot listen on .*127\\.0\\.0\\.1:${address.port}.*EADDRINUSE.* \\[IO_ERROR\\] \\[UNAVAILABLE\\]\\n$`));
  assert.deepEqual(stderrFiles(stateDir), [], 'what it printed is in the message, not left in a file');
});

test('a daemon started in the background that crashes before it answers is reported with its error line', async (t) => {
  const { stateDir } = repo(t);
  // The daemon inherits this environment: its Node fails to preload a module that is not there, and exits 1.
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = '--require=/nonexistent/baton-preload.cjs';
  try {
    await assert.rejects(startDaemonProcess(stateDir), (error: Error) => {
      assert.match(error.message, new RegExp(`^started a daemon for ${stateDir} but it exited with code 1 before it answered: Error: Cannot find module '/nonexistent/baton-preload\\.cjs'$`));
      return true;
    });
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
  assert.deepEqual(stderrFiles(stateDir), []);
});

test('baton status with its daemon stopped (SIGSTOP) names the silent daemon instead of reporting none, and reads the store', async (t) => {
  const { dir, stateDir } = repo(t);
  const started = await baton(['serve', '--detach'], { cwd: dir, env });
  assert.equal(started.code, 0, started.stderr);
  const { pid } = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord;
  process.kill(pid, 'SIGSTOP');
  try {
    const silent = await baton(['status'], { cwd: dir, env });
    assert.equal(silent.code, 0, silent.stderr);
    assert.match(silent.stdout, new RegExp(`^daemon: pid ${pid} holds the daemon lock but did not answer \\(stopped or hung\\? 'kill -CONT ${pid}', or 'kill ${pid}'\\); below, read from the embedded store `));
    const json = JSON.parse((await baton(['status', '--json'], { cwd: dir, env })).stdout) as { silentDaemon?: { pid: number } };
    assert.deepEqual(json.silentDaemon, { pid });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const answering = await baton(['status'], { cwd: dir, env });
  assert.match(answering.stdout, new RegExp(`^daemon: pid ${pid}, up `));
});
