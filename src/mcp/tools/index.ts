// The MCP tools baton offers coding agents: reservations (the intent map),
// files written under them, named locks, git under the git lease, the task
// queue, token budgets, rate limits, status and events. Each tool has a zod
// input schema (listed to the agent as JSON Schema and checked before anything
// happens) and a description written for the agent: when to use it, what a
// refusal means, what to do next. Failures are BatonErrors; server.ts turns
// them into MCP tool errors whose text starts with the code and ends with a hint.
//
// Each group of tools has its own file; this one lists them in the order
// tools/list shows them, which agents see: keep it.
import { approvalStatus, requestApproval } from './approvals.ts';
import { budgetCommit, budgetReport, budgetReserve, budgetStatus, rateLimitTake } from './budgets.ts';
import { deleteFile, renameFile, writeFile } from './files.ts';
import { gitCommit } from './git.ts';
import { kvDelete, kvGet, kvList, kvPut } from './kv.ts';
import { acquireLock, releaseLock } from './locks.ts';
import { ackMessage, inbox, sendMessage } from './messages.ts';
import { listReservations, releasePaths, reservePaths } from './reservations.ts';
import { answerRelease, requestRelease } from './release.ts';
import { recentEvents, status } from './status.ts';
import { taskAdd, taskClaim, taskComplete, taskFail, taskList, taskRenew } from './tasks.ts';
import type { Tool } from './tool.ts';

export type { Backend, Tool, ToolAnnotations, ToolContext } from './tool.ts';

export const tools: Tool[] = [
  reservePaths, releasePaths, listReservations, writeFile, deleteFile, renameFile, acquireLock, releaseLock, requestRelease, answerRelease, sendMessage, inbox, ackMessage, gitCommit,
  taskAdd, taskClaim, taskRenew, taskComplete, taskFail, taskList, requestApproval, approvalStatus, budgetStatus, budgetReserve, budgetCommit, budgetReport, rateLimitTake, kvGet, kvPut, kvDelete, kvList, status, recentEvents,
];

export const toolsByName = new Map(tools.map((t) => [t.name, t]));
