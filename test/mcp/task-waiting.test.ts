// task_list through `baton mcp`: a ready task whose dependencies are not done
// says it waits for them, so an agent does not try to claim it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startDaemon } from '../../support/daemon.ts';
import { cli } from '../../support/paths.ts';
import { tempDir } from '../helpers/procs.ts';

test('task_list: a task waiting on dependencies says how many are not done', { timeout: 60_000 }, async (t) => {
  const root = join(tempDir(t, 'baton-mcp-waiting-'), 'project');
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const daemon = await startDaemon(stateDir, { cwd: root });
  t.after(() => daemon.stop());

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.BATON_NO_DAEMON = '';
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp', '--state-dir', stateDir, '--name', 'alice'], cwd: root, env, stderr: 'pipe' }));
  t.after(() => client.close());
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const result = await client.callTool({ name, arguments: args });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    return result.structuredContent;
  };

  const first = (await call('task_add', { title: 'build' })).task;
  const second = (await call('task_add', { title: 'deploy', depends_on: [first.id] })).task;
  assert.equal(second.waiting_for, '1 of depends_on not done yet; not claimable until then');
  const listed = (await call('task_list')).tasks as Array<Record<string, unknown>>;
  assert.deepEqual(
    listed.map((x) => [x.title, x.status, x.waiting_for]),
    [
      ['build', 'ready', undefined],
      ['deploy', 'ready', '1 of depends_on not done yet; not claimable until then'],
    ],
  );
});
