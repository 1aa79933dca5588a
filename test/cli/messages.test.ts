// What a user reads when they get something wrong: one line ending in its
// [CODE], "did you mean" when a name is close, our words rather than Node's
// or the wire's. Real baton processes against a temp database.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { baton, start, tempDir, type Finished } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';

/** baton against a fresh database in a temp directory. */
function withDb(t: TestContext): (args: string[]) => Promise<Finished> {
  const db = join(tempDir(t, 'baton-messages-'), 'baton.db');
  return (args) => baton([...args, '--db', db]);
}

/** Exit 2 and exactly `line` on stderr. */
function usage(r: Finished, line: string): void {
  assert.equal(r.stderr, `${line}\n`);
  assert.equal(r.code, 2, `exit 2 expected: ${r.stderr}`);
}

describe('CLI messages', { concurrency: true }, () => {
  test('an unknown command ends with [INVALID_ARGUMENT], with the nearest command when one is close', async () => {
    const [frob, stauts, taks, help] = await Promise.all([baton(['frob']), baton(['stauts']), baton(['taks', 'list']), baton(['help', 'lese'])]);
    usage(frob, `baton: unknown command "frob"; see 'baton --help' [INVALID_ARGUMENT]`);
    usage(stauts, 'baton: unknown command "stauts"; did you mean "status"? [INVALID_ARGUMENT]');
    usage(taks, 'baton: unknown command "taks"; did you mean "task"? [INVALID_ARGUMENT]');
    usage(help, 'baton: unknown command "lese"; did you mean "lease"? [INVALID_ARGUMENT]');
  });

  test('an unknown action of a command group, and an option before the action', async () => {
    const [lst, budget, before] = await Promise.all([baton(['task', 'lst']), baton(['budget', 'stauts']), baton(['task', '--json', 'list'])]);
    usage(lst, 'baton: unknown task action "lst"; did you mean "list"? [INVALID_ARGUMENT]');
    usage(budget, 'baton: unknown budget action "stauts"; did you mean "status"? [INVALID_ARGUMENT]');
    assert.equal(before.code, 2);
    assert.deepEqual(JSON.parse(before.stderr), {
      error: { code: 'INVALID_ARGUMENT', message: `expected an action before "--json": baton task <action> --json; see 'baton task --help'` },
    });
  });

  test("a mistyped flag: our words, the nearest flag, never parseArgs' text", async (t) => {
    const run = withDb(t);
    const [stauts, dash, far, short, missing, option, boolean] = await Promise.all([
      run(['task', 'list', '--stauts', 'ready']),
      run(['task', 'list', '-json']),
      run(['task', 'list', '--frobnicate']),
      run(['task', 'list', '-x']),
      baton(['task', 'list', '--queue']),
      run(['task', 'list', '--queue', '--status']),
      run(['task', 'list', '--json=yes']),
    ]);
    usage(stauts, 'baton: unknown option "--stauts"; did you mean "--status"? [INVALID_ARGUMENT]');
    usage(dash, 'baton: unknown option "-json"; did you mean "--json"? [INVALID_ARGUMENT]');
    usage(far, `baton: unknown option "--frobnicate"; see 'baton task list --help' [INVALID_ARGUMENT]`);
    usage(short, `baton: unknown option "-x"; see 'baton task list --help' [INVALID_ARGUMENT]`);
    usage(missing, `baton: --queue needs a value; see 'baton task list --help' [INVALID_ARGUMENT]`);
    usage(option, `baton: --queue needs a value, got the option "--status" (write --queue=--status if that is the value); see 'baton task list --help' [INVALID_ARGUMENT]`);
    usage(boolean, `baton: --json takes no value, got "yes"; see 'baton task list --help' [INVALID_ARGUMENT]`);
  });

  test("a refusal of the request's check names the argument or flag the user typed, not the body's field", async (t) => {
    const run = withDb(t);
    const [key, queue, owner, ttl, title] = await Promise.all([
      run(['lease', 'acquire', '']),
      run(['task', 'add', 'x', '--queue', '']),
      run(['lease', 'acquire', 'k', '--owner', '']),
      run(['lease', 'acquire', 'k', '--ttl', '1e20']),
      run(['task', 'add', '', '--json']),
    ]);
    usage(key, 'baton: key must not be empty [INVALID_ARGUMENT]');
    usage(queue, 'baton: --queue must not be empty [INVALID_ARGUMENT]');
    usage(owner, 'baton: --owner must not be empty [INVALID_ARGUMENT]');
    // The wire's bound is in milliseconds; --ttl is in seconds.
    usage(ttl, 'baton: --ttl must be <= 9007199254740.99 seconds, got 100000000000000000000 [INVALID_ARGUMENT]');
    assert.deepEqual(JSON.parse(title.stderr), { error: { code: 'INVALID_ARGUMENT', message: 'title must not be empty' } });
  });

  test('a --status value that is close to a state is suggested', async (t) => {
    const run = withDb(t);
    usage(await run(['task', 'list', '--status', 'redy']), 'baton: --status must be one or more of ready, waiting, claimed, blocked, awaiting_approval, done, dead, cancelled, rejected, got "redy"; did you mean "ready"? [INVALID_ARGUMENT]');
  });
});

describe('colour', { concurrency: true }, () => {
  const ESC = '\x1b[';
  const plain = { FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: 'xterm-256color' };

  test('FORCE_COLOR colours the error line and table headers; piped, NO_COLOR, TERM=dumb or FORCE_COLOR=0 do not', async (t) => {
    const db = join(tempDir(t, 'baton-colour-'), 'baton.db');
    await baton(['task', 'add', 'one', '--db', db]);
    const env = (extra: NodeJS.ProcessEnv) => ({ env: { ...plain, ...extra } });
    const taks = (extra: NodeJS.ProcessEnv) => baton(['taks'], env(extra));
    const [forced, piped, noColor, dumb, zero, both] = await Promise.all([
      taks({ FORCE_COLOR: '1' }),
      taks({}),
      taks({ NO_COLOR: '1' }),
      taks({ TERM: 'dumb' }),
      taks({ FORCE_COLOR: '0' }),
      taks({ FORCE_COLOR: '1', NO_COLOR: '1' }),
    ]);
    assert.equal(forced.stderr, `${ESC}31m${ESC}1mbaton:${ESC}22m${ESC}39m unknown command "taks"; did you mean "task"? ${ESC}2m[INVALID_ARGUMENT]${ESC}22m\n`);
    for (const r of [piped, noColor, dumb, zero]) assert.equal(r.stderr, 'baton: unknown command "taks"; did you mean "task"? [INVALID_ARGUMENT]\n');
    assert.ok(both.stderr.includes(ESC), 'FORCE_COLOR wins over NO_COLOR, as in Node');

    const [list, listPiped] = await Promise.all([baton(['task', 'list', '--db', db], env({ FORCE_COLOR: '1' })), baton(['task', 'list', '--db', db], env({}))]);
    assert.ok(list.stdout.startsWith(`${ESC}1mID`), list.stdout);
    assert.match(list.stdout, new RegExp(`${ESC.replace('[', '\\[')}32mready`), 'a ready task is green');
    assert.doesNotMatch(listPiped.stdout, /\x1b/);
  });

  test('JSON is never coloured, even forced', async (t) => {
    const db = join(tempDir(t, 'baton-colour-'), 'baton.db');
    const added = await baton(['task', 'add', 'one', '--json', '--db', db], { env: { ...plain, FORCE_COLOR: '1' } });
    const [list, error] = await Promise.all([
      baton(['task', 'list', '--json', '--db', db], { env: { ...plain, FORCE_COLOR: '1' } }),
      baton(['task', 'lst', '--json'], { env: { ...plain, FORCE_COLOR: '1' } }),
    ]);
    for (const r of [added, list, error]) assert.doesNotMatch(r.stdout + r.stderr, /\x1b/);
    assert.equal(JSON.parse(list.stdout)[0].title, 'one');
  });

  // script(1) runs baton on a pseudo-terminal and copies what it printed to its own stdout.
  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  test('on a terminal the error line is coloured; piped on from there, not', { skip: script === undefined && 'no script(1) here' }, async () => {
    const run = (command: string) => start(script!, ['-qec', command, '/dev/null'], { env: plain }).done;
    const baton = `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} taks`;
    const [tty, pipe] = await Promise.all([run(baton), run(`${baton} 2>&1 | cat`)]);
    assert.ok(tty.stdout.startsWith(`${ESC}31m${ESC}1mbaton:`), JSON.stringify(tty.stdout));
    assert.ok(pipe.stdout.startsWith('baton: unknown command "taks"'), JSON.stringify(pipe.stdout));
  });
});
