// The daemon's /v1/mcp route, loaded on first use: the MCP SDK is imported
// only when an agent connects over HTTP, so daemons that never serve MCP
// start and run without it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpHttpContext, McpHttpHandler } from './http.ts';

export type McpRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>;

export function mcpRoute(ctx: McpHttpContext): McpRoute {
  let handler: Promise<McpHttpHandler> | undefined;
  return async (req, res, body) => {
    handler ??= import('./http.ts').then((m) => m.createMcpHttpHandler(ctx));
    await (await handler).handle(req, res, body);
  };
}
