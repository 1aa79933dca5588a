// budget_commit tells the agent when it used more than it reserved: the real
// MCP SDK client drives `baton mcp` against a daemon.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcpAgent, mcpProject } from '../helpers/mcp.ts';

test('budget_commit above the reservation: all of it recorded, the answer says the overshoot and what to do, other agents see the event', { timeout: 60_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-budget-commit-');
  const admin = project.admin;
  await admin.setBudget({ limit: 50_000 });
  const { client } = await mcpAgent(t, project, 'spender');
  const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const result = await client.callTool({ name, arguments: args });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    return result.structuredContent as Record<string, unknown>;
  };

  const small = await call('budget_reserve', { estimate: 20_000, model: 'opus' });
  const within = await call('budget_commit', { reservation_id: small.reservation_id, prompt_tokens: 15_000, completion_tokens: 5_000 });
  assert.equal(within.overshoot, null);
  assert.equal(within.next, undefined);

  const big = await call('budget_reserve', { estimate: 30_000, model: 'opus' });
  const over = await call('budget_commit', { reservation_id: big.reservation_id, prompt_tokens: 30_000, completion_tokens: 10_000 });
  assert.deepEqual(over.overshoot, { reservation_id: big.reservation_id, estimate: 30_000, actual: 40_000, by: 10_000 });
  assert.deepEqual({ used: (over.status as Record<string, unknown>).used, exceeded: (over.status as Record<string, unknown>).exceeded }, { used: 60_000, exceeded: true });
  assert.match(String(over.next), /10000 tokens more than you reserved/);
  assert.match(String(over.next), /stop spending and tell your user/);

  const events = await call('recent_events', { types: ['tokens.overshoot', 'tokens.exceeded'] });
  assert.deepEqual((events.events as Array<{ type: string }>).map((e) => e.type), ['tokens.overshoot', 'tokens.exceeded']);
});
