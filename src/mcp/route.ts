// The daemon's /v1/mcp route, which `baton serve` mounts: the MCP SDK is
// loaded on first use, so daemons that never serve MCP start and run
// without it. Closing the route closes the MCP sessions open on it.
import type { McpHttpContext, McpHttpHandler } from './http.ts';

export function mcpRoute(ctx: McpHttpContext): McpHttpHandler {
  let handler: Promise<McpHttpHandler> | undefined;
  return {
    async handle(req, res, body) {
      handler ??= import('./http.ts').then((m) => m.createMcpHttpHandler(ctx));
      await (await handler).handle(req, res, body);
    },
    async close() {
      // Never used: nothing was loaded, nothing is open. A load that failed left nothing open either.
      await handler?.then((h) => h.close(), () => undefined);
    },
  };
}
