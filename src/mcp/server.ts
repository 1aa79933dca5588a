// The MCP server: baton's tools (tools/) and the status resource on the
// SDK's low-level Server, over stdio for `baton mcp` (http.ts serves the same
// server over streamable HTTP inside the daemon).
//
// The low-level Server rather than McpServer.registerTool: McpServer checks
// inputs itself and answers a bad one with "MCP error -32602: Input
// validation error: ..." with no baton code and no hint. Here each tool's zod
// schema is listed as JSON Schema and checked by us, so a missing field, a
// wrong type or a path outside the project is a tool error that reads
// `INVALID_ARGUMENT: ... — <what to do>`, and nothing has happened.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema,
  type CallToolResult, type Implementation, type Tool as ListedTool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { RemoteCoordinator } from '../client/remote.ts';
import { BatonError, isBatonError } from '../errors.ts';
import type { AgentState } from './tools/agent.ts';
import { tools, toolsByName, type Backend, type ToolContext } from './tools/index.ts';
import { errorText, invalidArguments } from './tools/refusals.ts';

/** Sent to the agent when it connects (clients show it to the model). */
export const INSTRUCTIONS = `baton coordinates you with the other agents working in this project.
Workflow: task_claim (or take the task you were given) -> list_reservations to see who works where -> reserve_paths for every file you will change -> edit with write_file / delete_file / rename_file -> git_commit the files you changed -> release_paths -> task_complete.
A LOCKED or LEASE_REQUIRED answer means another agent is working there: do not edit those files another way; do other work or wait (wait_seconds).
Your reservations and claims are released automatically when you disconnect.`;

export interface BatonServerOptions {
  backend: Backend;
  agent: AgentState;
  version: string;
  /** The agent's name when none was given, from the MCP client's own name. */
  defaultName(client: Implementation | undefined): string;
}

function listed(): ListedTool[] {
  return tools.map((t) => {
    const { $schema: _drop, ...schema } = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return { name: t.name, title: t.title, description: t.description, inputSchema: schema as ListedTool['inputSchema'], annotations: { title: t.title, openWorldHint: false, ...t.annotations } };
  });
}

let listing: ListedTool[] | undefined;

function failure(error: unknown, tool: string): CallToolResult {
  const e = isBatonError(error) ? error : new BatonError('IO_ERROR', error instanceof Error ? error.message : String(error));
  return { isError: true, content: [{ type: 'text', text: errorText(e, tool) }] };
}

/** Runs one tool call: validate, run, and answer with the result or a tool error. Nothing happens when validation fails. */
export async function callTool(name: string, args: unknown, ctx: ToolContext): Promise<CallToolResult> {
  const tool = toolsByName.get(name);
  if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `baton has no tool ${JSON.stringify(name)}; tools/list shows its tools`);
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) return failure(invalidArguments(name, parsed.error.issues), name);
  try {
    const run = () => tool.run(parsed.data, ctx);
    const result = tool.annotations.readOnlyHint === true ? await run() : await ctx.agent.inOrder(run);
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  } catch (error) {
    if (isBatonError(error, 'SESSION_ENDED')) ctx.agent.reset();
    return failure(error, name);
  }
}

const RESOURCES = [
  { uri: 'baton://status', name: 'status', title: 'baton status', description: 'Agents, reservations and locks, tasks by state, budgets and rate limits (the status tool\'s answer).', mimeType: 'application/json' },
  { uri: 'baton://reservations', name: 'reservations', title: 'baton reservations', description: 'Who holds which paths and locks, why, and since when (list_reservations\' answer).', mimeType: 'application/json' },
];

export function createBatonServer(options: BatonServerOptions): Server {
  const { backend, agent } = options;
  const ctx: ToolContext = { backend, agent };
  const server = new Server({ name: 'baton', title: 'baton', version: options.version }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });
  server.oninitialized = () => {
    const client = server.getClientVersion();
    agent.identify(options.defaultName(client), client === undefined ? {} : { client: client.name.slice(0, 256), clientVersion: client.version.slice(0, 256) });
    // Register now, so the agent shows up (and its connection is bound) before its first call.
    agent.session().catch(() => undefined);
  };
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: (listing ??= listed()) }));
  server.setRequestHandler(CallToolRequestSchema, (request) => callTool(request.params.name, request.params.arguments, ctx));
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: RESOURCES }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const uri = request.params.uri;
    const tool = uri === 'baton://status' ? 'status' : uri === 'baton://reservations' ? 'list_reservations' : undefined;
    if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `no resource ${uri}; resources/list shows them`);
    const result = await callTool(tool, {}, ctx);
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    if (result.isError === true) throw new McpError(ErrorCode.InternalError, text);
    return { contents: [{ uri, mimeType: 'application/json', text }] };
  });
  return server;
}

/** The tools' backend over the daemon's client. */
export function remoteBackend(c: RemoteCoordinator, root: string | null): Backend {
  return {
    coordinator: c,
    root,
    writeFile: (path, content, lease, actor) => c.writeFile(path, content, lease, { actor }),
    deleteFile: (path, lease, actor) => c.deleteFile(path, lease, { actor }),
    renameFile: (from, to, lease, actor) => c.renameFile(from, to, lease, { actor }),
    gitCommit: (message, paths, owner) => c.gitCommit(message, { paths, owner }),
    status: () => c.status(),
  };
}

/**
 * Serves `server` on this process's stdin and stdout until the client goes:
 * stdin ends (the agent exited or closed the pipe), stdout breaks, or a
 * signal comes. Resolves with the reason.
 */
export async function serveStdio(server: Server): Promise<string> {
  const transport = new StdioServerTransport();
  let finish!: (reason: string) => void;
  const done = new Promise<string>((resolve) => (finish = resolve));
  transport.onclose = () => finish('the transport closed');
  process.stdin.once('end', () => finish('stdin closed'));
  process.stdin.once('close', () => finish('stdin closed'));
  process.stdin.once('error', () => finish('stdin failed'));
  process.stdout.once('error', () => finish('stdout closed'));
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  const onSignal = (signal: string) => finish(signal);
  for (const signal of signals) process.once(signal, onSignal);
  await server.connect(transport);
  const reason = await done;
  for (const signal of signals) process.off(signal, onSignal);
  await server.close().catch(() => undefined);
  process.stdin.destroy();
  return reason;
}
