// Routes the daemon mounts for whoever starts it, beside its own API: `baton
// serve` gives it /v1/mcp, so the daemon itself never imports the MCP code.
// A route is made once the daemon's context exists, is reached after
// authentication like any other, and is closed when the daemon stops (or
// fails to start).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Coordinator } from '../coordinator.ts';
import type { DaemonInfo } from '../project/status.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import type { Logger } from './log.ts';

export interface DaemonRoute {
  /** Answers a request to the route's path, any method; `body` is read already (empty unless POST). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** What a route is given: the engine, the daemon's identity and status, its own file and git operations, its log. */
export interface RouteContext {
  coordinator: Coordinator;
  version: string;
  log: Logger;
  daemonInfo(): DaemonInfo;
  daemonOperations: DaemonOperations;
}

export type OpenRoute = (ctx: RouteContext) => DaemonRoute;
