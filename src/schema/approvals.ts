// Approvals (docs/approvals.md): a task that needs a person's approval waits
// in status awaiting_approval, which no claim reads, until someone with the
// approver scope approves it (then it is ready, or blocked) or rejects it
// (then it is rejected, for good). A queue's policy gates every task added to it.
import { z } from 'zod';
import { mutation, name, reason, time } from './fields.ts';

export const approvalState = z.enum(['pending', 'approved', 'rejected']);

export const approval = z
  .strictObject({
    state: approvalState.describe('pending: waiting for a decision; approved or rejected: decided, by whom and why.'),
    by: z.string().nullable().describe('Who decided (null while pending).'),
    reason: z.string().nullable(),
    at: time.nullable().describe('When it was decided (null while pending).'),
  })
  .describe('The approval the task needed, and its decision; null on a task that needed none.');

const decider = name.describe('Who decides: a person (the CLI uses $BATON_AGENT, else user@host).');

export const approveOptions = mutation.extend({ by: decider, reason: reason.optional() });

export const rejectOptions = mutation.extend({ by: decider, reason: reason.min(1).describe('Why not: the agent that asked reads it.') });

export const approvalPolicy = z
  .strictObject({
    queue: z.string(),
    required: z.boolean().describe('true: every task added to this queue needs approval, whatever its needsApproval says.'),
    since: time.nullable().describe('When the policy was set (null: none is set).'),
  })
  .describe("A queue's approval policy.");

export const approvalPolicySpec = mutation.extend({ queue: name, required: z.boolean(), by: name.optional().describe('Who sets it, for the event.') });
