// What an agent reads when a tool refuses: `CODE: message — hint`. A tool
// that knows what to do next puts its own hint in the error (refusal);
// otherwise the tool's hint for the code here, else the code's default.
// A hint names only tools that do what it says: NOT_FOUND from budget_commit
// is not helped by listing reservations or tasks.
import type { z } from 'zod';
import { BatonError, type ErrorCode } from '../../errors.ts';

/** A BatonError with the one-line hint an agent should act on. */
export function refusal(code: ErrorCode, message: string, hint: string, details: Record<string, unknown> = {}): BatonError {
  return new BatonError(code, message, { details: { ...details, hint } });
}

/** Default hints by code, for errors no tool explained. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'fix the arguments to match the tool\'s input schema and call again; nothing was changed',
  OUTSIDE_ROOT: 'use a path relative to the project root; nothing was changed',
  PERMISSION_DENIED: '.git and baton\'s state directory cannot be changed through baton; nothing was changed',
  IS_A_DIRECTORY: 'name a file, not a directory',
  NOT_FOUND: 'check the name, id or path you passed',
  LOCKED: 'someone else holds it: do other work and try later, or pass wait_seconds',
  LOCK_TIMEOUT: 'the holder kept it for the whole wait: do other work and try later',
  LEASE_REQUIRED: 'call reserve_paths for the path first',
  STALE_TOKEN: 'your reservation or claim is no longer current: take it again and re-read before writing',
  LEASE_EXPIRED: 'your reservation or claim lapsed: take it again and re-read before writing',
  CONFLICT: 'it changed under you: read it again (task_list shows the tasks) and retry',
  BUDGET_EXCEEDED: 'the token budget is spent: stop expensive work and tell your user (budget_status shows the numbers)',
  RATE_LIMITED: 'slow down: wait and retry',
  SESSION_ENDED: 'your baton session ended and with it your reservations and claims; call the tool again (a new session is registered), then re-reserve',
  UNAVAILABLE: 'the baton daemon is not reachable; retry in a moment (it is restarted on demand)',
  OVERLOADED: 'the baton daemon is busy; retry in a moment',
  PAYLOAD_TOO_LARGE: 'the content is over the daemon\'s 1 MiB limit; split the file or write it another way',
  IDEMPOTENCY_MISMATCH: 'retry the call',
};

const TASK_GONE = 'no task has that id (removed?): task_list shows the tasks there are';

/** What an error from deeper down means for one tool, by code, where the code's default would mislead. */
const TOOL_HINTS: Record<string, Partial<Record<ErrorCode, string>>> = {
  budget_commit: {
    NOT_FOUND: 'that reservation was committed or cancelled already, or it expired (budget_reserve\'s ttl_seconds); nothing was recorded: record the tokens you used with budget_report',
  },
  rate_limit_take: { NOT_FOUND: 'no one has set that limit yet: pass rate and burst (what the service allows) to create it' },
  delete_file: { NOT_FOUND: 'there is no such file (deleted or moved already?); nothing was changed' },
  rename_file: { NOT_FOUND: 'the file to move does not exist (moved or deleted already?); nothing was changed' },
  task_add: { NOT_FOUND: 'a task in depends_on does not exist: task_list shows the tasks there are; nothing was added' },
  task_claim: { NOT_FOUND: TASK_GONE },
  task_renew: { NOT_FOUND: TASK_GONE },
  task_complete: { NOT_FOUND: TASK_GONE, CONFLICT: 'the task changed while you completed it: task_list shows its state; retry if it is still yours' },
  task_fail: { NOT_FOUND: TASK_GONE },
  answer_release: {
    CONFLICT: 'the request was answered already (your inbox has the answer), or you still hold the key under another reservation: release_paths or release_lock it first; nothing was answered',
  },
  git_commit: {
    CONFLICT: 'nothing to commit in those paths (no changes, or another agent committed them first), or they hold unmerged files; check with list_reservations who works there; nothing was committed',
    NOT_FOUND: 'no file matches a path you gave (check its spelling), or the project is not a git repository; nothing was committed',
  },
};

/** `CODE: message — hint`: the one line an agent reads; `tool` is the tool that refused, when known. */
export function errorText(error: BatonError, tool?: string): string {
  const toolHint = tool === undefined ? undefined : TOOL_HINTS[tool]?.[error.code];
  const hint = typeof error.details.hint === 'string' ? error.details.hint : (toolHint ?? HINTS[error.code]);
  const message = error.message.split('\n')[0]!;
  return hint === undefined ? `${error.code}: ${message}` : `${error.code}: ${message} — ${hint}`;
}

/** zod issues as one INVALID_ARGUMENT line naming each field. */
export function invalidArguments(toolName: string, issues: z.core.$ZodIssue[]): BatonError {
  const parts = issues.map((i) => `${i.path.length === 0 ? 'arguments' : i.path.join('.')}: ${i.message.replace(/^Invalid input: /, '')}`);
  return refusal('INVALID_ARGUMENT', `invalid arguments for ${toolName}: ${parts.join('; ')}`, HINTS.INVALID_ARGUMENT!, { issues: parts });
}
