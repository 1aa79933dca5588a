// Feedback while waiting: on a terminal, one line on stderr names what baton
// waits for (a lease and its holder, a lock file's holder, the daemon) and for
// how long, rewritten in place and cleared when the wait ends; nothing at all
// off a terminal or with TERM=dumb. The terminal is a real pseudo-terminal
// made by script(1) from util-linux.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator, type DaemonWait } from '../../src/client/index.ts';
import { startDaemon } from '../../support/daemon.ts';
import { cli } from '../../support/paths.ts';
import { baton, start, startNode, tempDir, type Finished } from '../helpers/procs.ts';

const CLEAR = '\r\x1b[2K';

const hasScript = ((): boolean => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const needsPty = { skip: hasScript ? false : 'script(1) from util-linux is not installed', timeout: 60_000 };

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs baton with its stdio on a pseudo-terminal 200 columns wide; stdout holds everything the terminal got.
 * NO_COLOR keeps the final error line plain to compare (the waiting note has no colour either way).
 */
function inTerminal(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  const command = `stty cols 200; exec ${[process.execPath, cli, ...args].map(quote).join(' ')}`;
  return start('script', ['-qfec', command, '/dev/null'], { ...options, env: { NO_COLOR: '1', ...options.env } }).done;
}

/** The notes drawn, in order (each begins by clearing the line). */
const notes = (output: string): string[] => output.split(CLEAR).slice(1).map((s) => s.split(/\r?\n/)[0]!).filter((s) => s.startsWith('baton: waiting'));

test('lease acquire on a terminal: a note names the holder of the overlapping reservation and the time waited, then is cleared', needsPty, async (t) => {
  const db = join(tempDir(t), 'b.db');
  const held = await baton(['lease', 'acquire', 'path:src/auth/**', '--owner', 'agent-a', '--ttl', '4', '--db', db]);
  assert.equal(held.code, 0, held.stderr);
  const got = await inTerminal(['lease', 'acquire', 'path:src/auth/login.ts', '--timeout', '20', '--db', db]);
  assert.equal(got.code, 0, got.stdout);
  const drawn = notes(got.stdout);
  assert.ok(drawn.length >= 1, `a note was drawn: ${JSON.stringify(got.stdout)}`);
  assert.match(drawn[0]!, /^baton: waiting \d+(ms|s) for "path:src\/auth\/login\.ts", held by "agent-a" \(exclusive on path:src\/auth\/\*\*\)$/);
  // Cleared before the answer: the last clear comes right before the lease is printed.
  assert.match(got.stdout, /\r\x1b\[2K(\r\x1b\[2K)*key: +path:src\/auth\/login\.ts/);

  // Not had in time: the note goes before the one-line refusal.
  const again = await baton(['lease', 'acquire', 'path:lib/**', '--owner', 'agent-b', '--db', db]);
  assert.equal(again.code, 0, again.stderr);
  const refused = await inTerminal(['lease', 'acquire', 'path:lib/x.ts', '--timeout', '1.5', '--db', db]);
  assert.equal(refused.code, 75, refused.stdout);
  assert.match(notes(refused.stdout).at(-1)!, /^baton: waiting \d+(ms|s) for "path:lib\/x\.ts", held by "agent-b" \(exclusive on path:lib\/\*\*\)$/);
  assert.match(refused.stdout, /\r\x1b\[2Kbaton: timed out after 1500 ms waiting for "path:lib\/x\.ts": held by "agent-b" .*\[LOCK_TIMEOUT\]\r\n$/);

  // Off a terminal, and on a dumb one: no note, only the refusal.
  const piped = await baton(['lease', 'acquire', 'path:lib/x.ts', '--timeout', '1', '--db', db]);
  assert.equal(piped.code, 75);
  assert.equal(piped.stderr.split('\n').filter(Boolean).length, 1, piped.stderr);
  assert.doesNotMatch(piped.stderr, /waiting \d/);
  const dumb = await inTerminal(['lease', 'acquire', 'path:lib/x.ts', '--timeout', '1', '--db', db], { env: { TERM: 'dumb' } });
  assert.equal(dumb.code, 75);
  assert.ok(!dumb.stdout.includes('\x1b[2K'), JSON.stringify(dumb.stdout));
});

test('run --lock on a terminal: a note names the pid holding the lock file', needsPty, async (t) => {
  const dir = tempDir(t);
  const holder = startNode(cli, ['run', '--lock', 'f', '--', process.execPath, '-e', 'console.log("ready");setTimeout(()=>{},20000)'], { cwd: dir });
  t.after(() => holder.child.kill('SIGTERM'));
  await holder.line('ready');
  const waited = await inTerminal(['run', '--lock', 'f', '--timeout', '1.5', '--', 'true'], { cwd: dir, env: { BATON_NO_DAEMON: '1' } });
  assert.equal(waited.code, 75, waited.stdout);
  assert.match(notes(waited.stdout).at(-1)!, new RegExp(`^baton: waiting \\d+(ms|s) for the lock on f, held by pid ${holder.child.pid} on \\S+ \\(exclusive\\)$`));
  assert.match(waited.stdout, /\r\x1b\[2Kbaton: .*\[LOCK_TIMEOUT\]\r\n$/);
});

test("the client's retries while the daemon is not there yet: a note on a terminal, cleared once it answers", needsPty, async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const env = { BATON_URL: `baton+unix://${join(stateDir, 'baton.sock')}`, BATON_NO_DAEMON: '' };
  const listing = inTerminal(['lease', 'list'], { cwd: dir, env });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  const listed = await listing;
  assert.equal(listed.code, 0, listed.stdout);
  // The first note names the error; on a loaded machine the client's breaker may have opened first (5 failures), and says so.
  assert.match(notes(listed.stdout)[0]!, new RegExp(`^baton: waiting \\d+(ms|s) for the baton daemon at baton\\+unix://${stateDir.replaceAll('/', '\\/')}\\/baton\\.sock: (its socket is not there \\(ENOENT\\)|it is not there \\(\\d+ failures in a row\\); trying again in [\\d.]+ m?s)$`));
  assert.match(listed.stdout, /\r\x1b\[2Kno leases held\r\n$/);
});

test('the client library only tells its hook, with the reason, and says when the wait is over', async () => {
  const seen: Array<DaemonWait | undefined> = [];
  const c = new RemoteCoordinator({ socketPath: '/nonexistent/baton.sock', retryForMs: 400, onDaemonWait: (w) => seen.push(w) });
  await assert.rejects(c.listLeases(), { code: 'UNAVAILABLE' });
  await c.close();
  assert.ok(seen.length >= 2, JSON.stringify(seen));
  assert.deepEqual(seen.at(-1), undefined, 'the last call says the wait is over');
  const first = seen[0]!;
  assert.equal(first.target, 'baton+unix:///nonexistent/baton.sock');
  assert.equal(first.reason, 'its socket is not there (ENOENT)');
  assert.ok(seen.slice(0, -1).every((w) => w?.since === first.since), 'one wait, one start time');
});
