// task_list through `baton mcp`: a ready task whose dependencies are not done
// says it waits for them, so an agent does not try to claim it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcpAgent, mcpProject } from '../helpers/mcp.ts';

test('task_list: a task waiting on dependencies says how many are not done', { timeout: 60_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-mcp-waiting-');
  const { client } = await mcpAgent(t, project, 'alice');
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
