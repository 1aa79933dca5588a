// One namespace for a person and the agents: a shell user's `baton run
// --reserve` and an MCP agent's reserve_paths take the same path leases and
// wait for each other; `run --lock` warns when a reservation covers its path.
// Real daemons, real `baton mcp` agents, real CLI processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { cli } from '../../support/paths.ts';
import { baton, sleep, startNode, tempDir, type Finished } from '../helpers/procs.ts';

const withDaemon = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_HOME: '', BATON_URL: '' };

/** A git repository with its daemon (state in .git/baton), stopped when the test ends. */
async function project(t: TestContext): Promise<{ root: string; stateDir: string; daemon: RunningDaemon }> {
  const root = join(tempDir(t, 'baton-ns-'), 'project');
  execFileSync('git', ['init', '-q', root]);
  mkdirSync(join(root, 'src', 'auth'), { recursive: true });
  const stateDir = join(root, '.git', 'baton');
  const daemon = await startDaemon(stateDir, { cwd: root });
  t.after(() => daemon.stop());
  return { root, stateDir, daemon };
}

interface Agent {
  pid: number;
  /** A tool call: its text, and the error code when it was refused. */
  call(name: string, args: Record<string, unknown>): Promise<{ ok: boolean; code: string | undefined; text: string }>;
}

/** A real coding agent's view: `baton mcp` over stdio, driven by the MCP SDK's client. */
async function agent(t: TestContext, root: string, stateDir: string, name: string): Promise<Agent> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, withDaemon);
  const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp', '--state-dir', stateDir, '--name', name], cwd: root, env, stderr: 'pipe' });
  const client = new Client({ name: 'namespace-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return {
    pid: transport.pid!,
    async call(tool, args) {
      const result = await client.callTool({ name: tool, arguments: args });
      const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('');
      return { ok: result.isError !== true, code: result.isError === true ? /^([A-Z_]+):/.exec(text)?.[1] : undefined, text };
    },
  };
}

function oneLine(r: Finished, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
}

test("an agent's reservation: the shell's --reserve waits for it (75 at --timeout 0), --lock warns naming it, lease show and lease acquire name it", { timeout: 60_000 }, async (t) => {
  const { root, stateDir } = await project(t);
  const alice = await agent(t, root, stateDir, 'alice');
  assert.ok((await alice.call('reserve_paths', { paths: ['src/auth/**'] })).ok);
  const run = (args: string[], cwd = root): Promise<Finished> => baton(args, { cwd, env: withDaemon });

  // --reserve: refused at once with --timeout 0, naming the agent and its covering reservation.
  oneLine(await run(['run', '--reserve', 'src/auth/login.ts', '--timeout', '0', '--', 'true']), 75, /^baton: "path:src\/auth\/login\.ts" is held by "alice" \(exclusive on path:src\/auth\/\*\*\) \[LOCKED\]\n$/);
  // Relative to the working directory, as git's pathspecs are: the same key from src/auth.
  oneLine(await run(['run', '--reserve', 'login.ts', '--timeout', '0', '--', 'true'], join(root, 'src', 'auth')), 75, /"path:src\/auth\/login\.ts" is held by "alice"/);

  // --lock runs (a lock file is another namespace) but says, in one line, who has reserved the path.
  const locked = await run(['run', '--lock', 'src/auth/login.ts', '--', process.execPath, '-e', 'console.log("ran")']);
  assert.equal(locked.code, 0, locked.stderr);
  assert.equal(locked.stdout, 'ran\n');
  oneLine(locked, 0, /^baton: warning: src\/auth\/login\.ts is reserved by "alice" \(exclusive on path:src\/auth\/\*\*\); --lock does not wait for reservations: add --reserve src\/auth\/login\.ts to wait for it\n$/);

  // lease show tells the truth about a covered path; acquire names the covering holder.
  const shown = await run(['lease', 'show', 'path:src/auth/login.ts']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^"path:src\/auth\/login\.ts": held \(exclusive\) through an overlapping reservation\nholders:\n/);
  assert.match(shown.stdout, /path:src\/auth\/\*\* +exclusive +\d+ +alice +with session +covers it\n/);
  const asJson = JSON.parse((await run(['lease', 'show', 'path:src/auth/login.ts', '--json'])).stdout);
  assert.equal(asJson.free, false);
  assert.deepEqual(asJson.holders.map((h: { key: string; owner: string; relation: string }) => [h.key, h.owner, h.relation]), [['path:src/auth/**', 'alice', 'covers it']]);
  oneLine(await run(['lease', 'acquire', 'path:src/auth/login.ts', '--timeout', '0']), 75, /^baton: "path:src\/auth\/login\.ts" is held by "alice" \(exclusive on path:src\/auth\/\*\*\) \[LOCKED\]\n$/);

  // A waiting --reserve runs its command once the agent releases.
  const waiting = startNode(cli, ['run', '--reserve', 'src/auth/login.ts', '--timeout', '20', '--', process.execPath, '-e', 'console.log("got it")'], { cwd: root, env: withDaemon });
  await sleep(500);
  assert.equal(waiting.lines().length, 0, 'still waiting while alice holds src/auth/**');
  assert.ok((await alice.call('release_paths', { all: true })).ok);
  const done = await waiting.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, 'got it\n');
  assert.equal(done.stderr, '', 'no note off a terminal');
});

test("the shell's --reserve blocks an agent's reserve_paths and lease acquire of overlapping paths; kill -9 of baton frees it at once", { timeout: 60_000 }, async (t) => {
  const { root, stateDir, daemon } = await project(t);
  const bob = await agent(t, root, stateDir, 'bob');
  const holder = startNode(cli, ['run', '--reserve', 'src/**', '--', process.execPath, '-e', 'console.log("ready " + process.pid); setTimeout(() => {}, 60_000)'], { cwd: root, env: withDaemon });
  const commandPid = Number((await holder.line('ready ')).split(' ')[1]);
  t.after(() => {
    try {
      process.kill(commandPid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
  const [lease] = await daemon.client().listLeases({ prefix: 'path:' });
  assert.equal(lease?.key, 'path:src/**');
  assert.match(lease.owner, /^\S+@\S+:\d+ \(baton run node\)$/, 'the owner names the baton process that holds it, which lives as long as the lease');
  assert.equal(lease.expiresAt, null, 'bound to the session of baton run, not a TTL');

  const refused = await bob.call('reserve_paths', { paths: ['src/auth/login.ts'] });
  assert.equal(refused.code, 'LOCKED', refused.text);
  assert.match(refused.text, /\(baton run node\)/, 'the agent is told who holds it');
  const shell = await baton(['lease', 'acquire', 'path:src/auth/**', '--timeout', '0'], { cwd: root, env: withDaemon });
  oneLine(shell, 75, /is held by "\S+@\S+:\d+ \(baton run node\)" \(exclusive on path:src\/\*\*\) \[LOCKED\]/);

  // kill -9 of baton run: its session ends with its connection, and the reservation with it.
  const waiting = bob.call('reserve_paths', { paths: ['src/auth/login.ts'], wait_seconds: 10 });
  await sleep(100);
  const killedAt = performance.now();
  holder.child.kill('SIGKILL');
  const took = await waiting;
  assert.ok(took.ok, took.text);
  const ms = performance.now() - killedAt;
  assert.ok(ms < 2000, `freed ${Math.round(ms)} ms after kill -9`);
  t.diagnostic(`the shell's reservation was freed ${Math.round(ms)} ms after kill -9 of baton run`);
});

test('run --reserve outside a project is refused (NO_PROJECT) and makes nothing; run --lock works anywhere, like flock', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const env = { ...withDaemon };
  oneLine(await baton(['run', '--reserve', 'src/**', '--', 'true'], { cwd: dir, env }), 1, /^baton: no baton project here: .* \[NO_PROJECT\]\n$/);
  const locked = await baton(['run', '--lock', 'f', '--', process.execPath, '-e', 'console.log("locked")'], { cwd: dir, env });
  assert.equal(locked.code, 0, locked.stderr);
  assert.equal(locked.stdout, 'locked\n');
  assert.equal(locked.stderr, '');
  assert.deepEqual(readdirSync(dir), [], 'no .baton, no lock file left behind');
  // Bad uses are one line each.
  oneLine(await baton(['run', '--', 'true'], { cwd: dir, env }), 2, /--lock <path> or --reserve <glob> is required/);
  oneLine(await baton(['run', '--reserve', 'x', '--ttl', '5', '--', 'true'], { cwd: dir, env }), 2, /--ttl .* needs --lock/);
});
