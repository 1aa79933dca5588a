// On a Node older than baton needs, the built package says so in one line: the
// `baton` command (exit 1) and an import of each entry (a thrown Error), instead
// of ERR_UNKNOWN_BUILTIN_MODULE for node:sqlite. In a checkout with its pinned
// Node the command runs under that one instead. Real old Node, real build.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { MIN_NODE_MAJOR, unsupportedNode } from '../../src/node-version.ts';
import { root } from '../../support/paths.ts';
import { start } from '../helpers/procs.ts';
import { oldNode } from '../helpers/old-node.ts';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: { baton: string }; dependencies: Record<string, string>; engines: { node: string } };
const old = oldNode();
const skip = old === undefined ? `no Node older than ${MIN_NODE_MAJOR} on this machine` : false;
let dir = '';
/** The package as installed elsewhere: built, its dependencies beside it, no pinned Node. */
let installed = '';
/** A project whose node_modules/baton is that package. */
let consumer = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-runtime-'));
  installed = join(dir, 'baton');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')], { stdio: 'inherit' });
  copyFileSync(join(root, 'package.json'), join(installed, 'package.json'));
  for (const name of Object.keys(pkg.dependencies)) {
    mkdirSync(dirname(join(installed, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(installed, 'node_modules', name));
  }
  consumer = join(dir, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  symlinkSync(installed, join(consumer, 'node_modules/baton'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const bin = (): string => join(installed, pkg.bin.baton);

async function run(node: string, args: string[], cwd = consumer) {
  return start(node, args, { cwd }).done;
}

test("package.json's engines.node says the Node the check wants", () => {
  assert.equal(pkg.engines.node, `>=${MIN_NODE_MAJOR}.0.0`);
  assert.equal(unsupportedNode(`${MIN_NODE_MAJOR}.0.0`), undefined);
  assert.equal(unsupportedNode('25.1.0'), undefined);
  assert.equal(unsupportedNode('22.22.0', '/opt/node22/bin/node'), `baton needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js 22.22.0 (/opt/node22/bin/node). Install it from https://nodejs.org or with nvm: nvm install ${MIN_NODE_MAJOR}`);
});

test('on an older Node, `baton` prints one line saying which Node it needs, and exits 1', { skip }, async () => {
  const expected = `${unsupportedNode(old!.version, realpathSync(old!.path))}\n`;
  for (const args of [['--version'], ['serve', '--detach'], ['lease', 'list'], []]) {
    const r = await run(old!.path, [bin(), ...args]);
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 1, stdout: '', stderr: expected }, `baton ${args.join(' ')}`);
  }
});

test('on an older Node, importing baton, baton/client or baton/testing throws that line (code UNSUPPORTED_NODE)', { skip }, async () => {
  const script = `const out = [];
for (const entry of ['baton', 'baton/client', 'baton/testing']) {
  try { await import(entry); out.push({ entry, loaded: true }); }
  catch (e) { out.push({ entry, name: e.name, code: e.code, message: e.message }); }
}
console.log(JSON.stringify(out));`;
  const r = await run(old!.path, ['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.stderr);
  const message = unsupportedNode(old!.version, realpathSync(old!.path));
  assert.deepEqual(JSON.parse(r.stdout), ['baton', 'baton/client', 'baton/testing'].map((entry) => ({ entry, name: 'UnsupportedNodeError', code: 'UNSUPPORTED_NODE', message })));
});

test('under Node 24 the same package runs: the command and all three entries', async () => {
  const version = await run(process.execPath, [bin(), '--version']);
  assert.deepEqual({ code: version.code, stdout: version.stdout }, { code: 0, stdout: `${pkg.version}\n` }, version.stderr);
  const script = `const [a, b, c] = await Promise.all([import('baton'), import('baton/client'), import('baton/testing')]);
const coordinator = await a.openCoordinator({ url: 'sqlite::memory:' });
await coordinator.close();
console.log([typeof a.withLock, typeof b.openCoordinator, typeof c.runConcurrent].join());`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'function,function,function\n');
});

test('on an older Node in a checkout with its pinned Node, `baton` runs under the pinned one', { skip }, async (t) => {
  // A checkout: the package's own node_modules holds the `node` dev dependency.
  const pinned = join(installed, 'node_modules/node');
  symlinkSync(join(root, 'node_modules/node'), pinned);
  t.after(() => rmSync(pinned));

  const version = await run(old!.path, [bin(), '--version']);
  assert.deepEqual({ code: version.code, stdout: version.stdout, stderr: version.stderr }, { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  const unknown = await run(old!.path, [bin(), 'no-such-command']);
  assert.equal(unknown.code, 2, "baton's exit code under the pinned Node is the launcher's");
  assert.match(unknown.stderr, /unknown command "no-such-command"/);

  // SIGTERM to the launcher reaches baton under the pinned Node: the daemon drains and both exit 0.
  const stateDir = join(dir, 'state');
  const serve = start(old!.path, [bin(), 'serve', '--state-dir', stateDir], { cwd: dir });
  const line = await serve.line('baton daemon ', 20_000);
  const daemonPid = Number(/^baton daemon (\d+) /.exec(line)?.[1]);
  assert.notEqual(daemonPid, serve.child.pid, 'the daemon runs in the pinned Node, a child of the launcher');
  serve.child.kill('SIGTERM');
  const stopped = await serve.done;
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(existsSync(join(stateDir, 'daemon.json')), false, 'the daemon stopped cleanly and removed its record');
});
