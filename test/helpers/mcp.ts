// A project with a daemon, and `baton mcp` agents driven by the MCP SDK's own
// client over stdio: the setup every MCP test shares.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RemoteCoordinator } from '../../src/client/index.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { cli } from '../../support/paths.ts';
import { tempDir } from './procs.ts';

export interface Answer {
  ok: boolean;
  /** The error code, for a tool error. */
  code: string | undefined;
  text: string;
  data: Record<string, unknown>;
}

export interface Agent {
  client: Client;
  transport: StdioClientTransport;
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<Answer>;
}

export interface Project {
  root: string;
  stateDir: string;
  daemon: RunningDaemon;
  admin: RemoteCoordinator;
}

/** One tool call's answer, success or tool error, from any connected client. */
export async function answer(client: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text?: string }>;
  const text = content.map((c) => c.text ?? '').join('');
  if (result.isError === true) return { ok: false, code: /^([A-Z_]+):/.exec(text)?.[1], text, data: {} };
  return { ok: true, code: undefined, text, data: (result.structuredContent ?? JSON.parse(text)) as Record<string, unknown> };
}

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  // Discovery may use (and would start) the project's daemon.
  out.BATON_NO_DAEMON = '';
  return out;
}

/** A git repository with its daemon. It sits one level down so a test can check that nothing escaped into its parent. */
export async function mcpProject(t: TestContext, prefix = 'baton-mcp-'): Promise<Project> {
  const root = join(tempDir(t, prefix), 'project');
  execFileSync('git', ['init', '-q', root]);
  execFileSync('git', ['-C', root, 'config', 'user.email', 'test@example.com']);
  execFileSync('git', ['-C', root, 'config', 'user.name', 'baton test']);
  const stateDir = join(root, '.git', 'baton');
  const daemon = await startDaemon(stateDir, { cwd: root });
  t.after(() => daemon.stop());
  return { root, stateDir, daemon, admin: daemon.client() };
}

/** A `baton mcp` process for the project, with an MCP client connected to it. */
export async function mcpAgent(t: TestContext, project: Pick<Project, 'root' | 'stateDir'>, name?: string): Promise<Agent> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'mcp', '--state-dir', project.stateDir, ...(name === undefined ? [] : ['--name', name])],
    cwd: project.root,
    env: env(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return { client, transport, stderr: () => stderr, call: (tool, args = {}) => answer(client, tool, args) };
}

/** The answer's data, asserting it succeeded. */
export function ok(a: Answer): Record<string, unknown> {
  assert.ok(a.ok, `expected success, got ${a.text}`);
  return a.data;
}
