// Which project a request works in (docs/projects.md): the x-baton-project
// header, or ?project= where a browser's EventSource cannot set one; with
// neither, the daemon's default project. The principal must reach it, asked
// before the project is looked up, so a principal learns nothing of projects
// it cannot reach (project-access.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { PROJECT_HEADER } from '../limits.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import type { AuthResult } from './auth.ts';
import { refuseProject } from './project-access.ts';

/** What a request works on: its project's Coordinator and the daemon's operations for it. */
export interface ProjectContext {
  coordinator: Coordinator;
  daemonOperations: DaemonOperations;
  /** The seq of the project's last committed event (0 when none): where a stream "from now" starts. */
  lastEventSeq(): Promise<number>;
  /** Ties an attached session to this daemon's node in the project's store. */
  bindSession?(sessionId: string): Promise<void>;
  /** True when a new mutation should be refused with 429 (the project's writer queue is full). */
  overloaded(): boolean;
  readonly name?: string;
  readonly home?: boolean;
  /** Where its state is, for its status. */
  readonly where?: string;
  /** Aborted when the daemon closes the project: its streams end, its waits stop. */
  readonly closing?: AbortSignal;
}

/** The projects the daemon serves (server/projects.ts), as the API sees them. */
export interface ProjectRouter {
  readonly homeName: string;
  scope(name: string | undefined): Promise<ProjectContext>;
}

/** The project `req` names, once `who` may reach it; `fallback` when the daemon serves no others. */
export async function projectOf(projects: ProjectRouter | undefined, fallback: ProjectContext, req: IncomingMessage, raw: string, who: AuthResult): Promise<ProjectContext> {
  const header = req.headers[PROJECT_HEADER];
  const query = raw.indexOf('?');
  const named = (Array.isArray(header) ? header[0] : header) ?? (query === -1 ? undefined : (new URLSearchParams(raw.slice(query + 1)).get('project') ?? undefined));
  if (projects === undefined) return fallback;
  const name = named ?? projects.homeName;
  refuseProject(who, name, name === projects.homeName);
  return projects.scope(named);
}

/** Routes that serve the daemon's default project only (the MCP endpoint, the dashboard, the metrics). */
export function homeOnly(p: ProjectContext, route: string): void {
  if (p.home === false) throw new BatonError('INVALID_ARGUMENT', `${route} serves the daemon's default project only; project ${p.name} is reached through the API (BATON_PROJECT=${p.name} baton mcp runs the MCP tools for it)`);
}

/** An open stream of a project ends when the daemon closes the project (it was archived, or the daemon stops). */
export function endWhenProjectCloses(p: ProjectContext, res: ServerResponse): void {
  const closing = p.closing;
  if (closing === undefined) return;
  const end = (): void => void res.end();
  closing.addEventListener('abort', end, { once: true });
  res.on('close', () => closing.removeEventListener('abort', end));
}
