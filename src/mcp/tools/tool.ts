// What a tool is: a name, a description written for the agent, a zod input
// schema (listed as JSON Schema, checked before anything happens) and a run
// function, and what it runs against: the daemon (Backend) and the agent.
import type { z } from 'zod';
import type { Coordinator, LeaseRef } from '../../coordinator.ts';
import type { ProjectStatus } from '../../project/status.ts';
import type { AgentState } from './agent.ts';
import { inboxNote } from './inbox-hint.ts';

/** What the tools need from the daemon: the Coordinator plus its own file, git and status operations. */
export interface Backend {
  readonly coordinator: Coordinator;
  /** The project root the daemon confines files to (absolute paths under it are accepted); null when unknown. */
  readonly root: string | null;
  writeFile(path: string, content: string | Uint8Array, lease: LeaseRef | undefined, actor: string): Promise<{ path: string; size?: number }>;
  deleteFile(path: string, lease: LeaseRef | undefined, actor: string): Promise<{ path: string }>;
  renameFile(from: string, to: string, lease: LeaseRef | undefined, actor: string): Promise<{ path: string; from?: string }>;
  gitCommit(message: string, paths: string[], owner: string): Promise<{ output: string; commit: string | null }>;
  status(): Promise<ProjectStatus>;
}

export interface ToolContext {
  backend: Backend;
  agent: AgentState;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface Tool {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  annotations: ToolAnnotations;
  run(args: unknown, ctx: ToolContext): Promise<Record<string, unknown>>;
}

export function tool<S extends z.ZodObject>(def: {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations?: ToolAnnotations;
  /** The inbox tools show the inbox themselves: no next-call note on their results. */
  noInboxNote?: boolean;
  run(args: z.output<S>, ctx: ToolContext): Promise<Record<string, unknown>>;
}): Tool {
  const { noInboxNote, ...rest } = def;
  return {
    annotations: {},
    ...rest,
    run: async (args, ctx) => {
      const result = await def.run(args as z.output<S>, ctx);
      // New high or urgent messages and release requests, once each, at the end of the result (inbox-hint.ts).
      const note = noInboxNote === true ? undefined : await inboxNote(ctx);
      return note === undefined ? result : { ...result, inbox_note: note };
    },
  };
}
