// The hint at the end of a refusal names tools that do what it says: real MCP
// clients (the SDK's Client over stdio) drive `baton mcp` against a daemon and
// read NOT_FOUND and CONFLICT refusals from each tool that can give one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcpAgent, mcpProject } from '../helpers/mcp.ts';

interface Refusal {
  code: string | undefined;
  message: string;
  hint: string;
}

test('NOT_FOUND and CONFLICT hints name tools that do what they say (budget_commit names budget_report, not list_reservations or task_list)', { timeout: 60_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-hints-');
  const { client } = await mcpAgent(t, project);
  const listed = (await client.listTools()).tools;
  const toolNames = new Set(listed.map((tool) => tool.name));
  const argumentNames = new Set(listed.flatMap((tool) => Object.keys(tool.inputSchema.properties ?? {})));

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('');
    return { isError: result.isError === true, text, data: result.structuredContent as Record<string, unknown> | undefined };
  };
  const refusal = async (name: string, args: Record<string, unknown>): Promise<Refusal> => {
    const { isError, text } = await call(name, args);
    assert.ok(isError, `${name} should refuse, answered ${text}`);
    const match = /^([A-Z_]+): (.*) — (.*)$/s.exec(text);
    assert.ok(match !== null, `${name}: "CODE: message — hint", got ${text}`);
    const hint = match[3]!;
    // Every tool a hint names exists.
    for (const named of hint.match(/\b[a-z]+_[a-z_]+\b/g) ?? []) if (!argumentNames.has(named)) assert.ok(toolNames.has(named), `${name}'s hint names ${named}, which is no tool: ${hint}`);
    return { code: match[1], message: match[2]!, hint };
  };

  // budget_commit: a reservation that is gone. No tool lists token reservations; what to do is report the use.
  const reserved = await call('budget_reserve', { estimate: 100, model: 'opus' });
  const id = String(reserved.data!.reservation_id);
  assert.ok(!(await call('budget_commit', { reservation_id: id, prompt_tokens: 10, completion_tokens: 5 })).isError);
  for (const reservationId of [id, 'no-such-reservation']) {
    const gone = await refusal('budget_commit', { reservation_id: reservationId, prompt_tokens: 10, completion_tokens: 5 });
    assert.equal(gone.code, 'NOT_FOUND');
    assert.match(gone.hint, /budget_report/);
    assert.doesNotMatch(gone.hint, /list_reservations|task_list/);
  }

  // rate_limit_take: a limit nobody set.
  const noLimit = await refusal('rate_limit_take', { key: 'github-api' });
  assert.equal(noLimit.code, 'NOT_FOUND');
  assert.match(noLimit.hint, /rate/);
  assert.match(noLimit.hint, /burst/);
  assert.doesNotMatch(noLimit.hint, /list_reservations|task_list/);

  // Files that are not there, under the agent's own reservation.
  assert.ok(!(await call('reserve_paths', { paths: ['src/**'] })).isError);
  for (const [tool, args] of [['delete_file', { path: 'src/missing.ts' }], ['rename_file', { from: 'src/missing.ts', to: 'src/moved.ts' }]] as const) {
    const missing = await refusal(tool, args);
    assert.equal(missing.code, 'NOT_FOUND', missing.message);
    assert.doesNotMatch(missing.hint, /list_reservations|task_list/, `${tool}: a missing file is not found by listing reservations or tasks`);
  }

  // Tasks: an unknown dependency or id is found with task_list (and not with list_reservations).
  const dep = await refusal('task_add', { title: 'x', depends_on: [999] });
  assert.equal(dep.code, 'NOT_FOUND');
  assert.match(dep.hint, /task_list/);
  assert.doesNotMatch(dep.hint, /list_reservations/);
  const unknown = await refusal('task_claim', { task_id: 999 });
  assert.equal(unknown.code, 'NOT_FOUND');
  assert.match(unknown.hint, /task_list/);
  assert.doesNotMatch(unknown.hint, /list_reservations/);
  const added = await call('task_add', { title: 'once' });
  const taskId = (added.data!.task as { id: number }).id;
  assert.ok(!(await call('task_claim', { task_id: taskId })).isError);
  const taken = await refusal('task_claim', { task_id: taskId });
  assert.equal(taken.code, 'CONFLICT');
  assert.match(taken.hint, /task_list/);
  assert.doesNotMatch(taken.hint, /list_reservations/);
});
