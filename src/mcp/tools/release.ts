// Release requests between agents: an agent refused a reservation or a lock
// asks its holders to let go (request_release); a holder answers
// (answer_release), and baton answers 'released' by itself once the hold ends.
// Both sides learn of it in their inbox and in the note on their next call.
import { z } from 'zod';
import type { ReleaseRequest } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';
import { MAX_KEY_LENGTH, MAX_REASON_LENGTH, MAX_RELEASE_REQUEST_TTL_MS, PATH_PREFIX, RELEASE_ANSWERS } from '../../limits.ts';
import { releaseUnlessGone } from '../../lease-scope.ts';
import { seconds } from './inputs.ts';
import { pattern } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool, type ToolContext } from './tool.ts';
import { iso } from './views.ts';

const key = z.string().min(1).max(MAX_KEY_LENGTH)
  .describe('The key from the refusal: "path:<glob>" for files (as reserve_paths named it, e.g. "path:src/auth/**"), or a lock name such as "deploy".');
const why = z.string().min(1).max(MAX_REASON_LENGTH);

/** The key as the engine knows it: a path key's pattern made relative to the project root. */
function keyOf(input: string, ctx: ToolContext): string {
  return input.startsWith(PATH_PREFIX) ? PATH_PREFIX + pattern(input.slice(PATH_PREFIX.length), ctx.backend.root) : input;
}

function requestView(r: ReleaseRequest): Record<string, unknown> {
  return {
    id: r.id, key: r.key, holder: r.holder, asker: r.asker, reason: r.reason, state: r.state,
    ...(r.answer === null ? {} : { answer: r.answer }),
    ...(r.state === 'pending' ? { lapses: iso(r.expiresAt) } : { answered: iso(r.answeredAt) }),
  };
}

export const requestRelease = tool({
  name: 'request_release',
  title: 'Ask a holder to release',
  description: [
    'Ask the agents holding a reservation or lock you need to release it, with your reason.',
    'Use it after reserve_paths or acquire_lock refused you (LOCKED or LOCK_TIMEOUT), passing the key the refusal named.',
    'Each holder gets a message in its inbox and a note on its next tool call; it answers by releasing (you are told "released"), or by declining (you are told why).',
    'Unanswered, the request lapses (default 10 minutes) and you are told that too. Asking again while your request is pending changes nothing.',
    'Meanwhile do other work; when told "released", reserve again (another agent may be faster).',
  ].join(' '),
  input: z.strictObject({
    key,
    reason: why.describe('Why you need it, shown to the holder (e.g. "the login fix is blocked on src/auth").'),
    ttl_seconds: seconds(MAX_RELEASE_REQUEST_TTL_MS / 1000).optional().describe('Let the request lapse after this long. Default 600 (10 minutes), at most a day.'),
  }),
  annotations: { idempotentHint: true },
  async run(args, ctx) {
    const k = keyOf(args.key, ctx);
    await ctx.agent.session();
    try {
      const asked = await ctx.backend.coordinator.requestRelease(k, {
        from: ctx.agent.name,
        reason: args.reason,
        ...(args.ttl_seconds === undefined ? {} : { ttlMs: Math.ceil(args.ttl_seconds * 1000) }),
      });
      return {
        asked: asked.map(requestView),
        next: 'do other work meanwhile; each holder\'s answer (released, declined, or lapsed) comes to your inbox and in the note on your next call. Once released, reserve it again.',
      };
    } catch (error) {
      if (isBatonError(error, 'NOT_FOUND')) throw refusal('NOT_FOUND', error.message, 'nobody holds it now: reserve it (reserve_paths / acquire_lock) instead; nothing was asked', { key: k });
      if (isBatonError(error, 'INVALID_ARGUMENT') && error.message.includes('itself')) {
        throw refusal('INVALID_ARGUMENT', error.message, 'you hold it yourself: work under it, or release it (release_paths / release_lock); nothing was asked', { key: k });
      }
      throw error;
    }
  },
});

export const answerRelease = tool({
  name: 'answer_release',
  title: 'Answer a release request',
  description: [
    'Answer a request from another agent to release something you hold (a release-request message in your inbox, or the note on a tool result).',
    'answer "released": baton releases your hold on that key now and tells the asker; commit or finish first, since the files are no longer yours.',
    'answer "declined" with a reason: you keep it, and the asker is told why.',
    'Name the request by id (from the message), or by key to answer every pending request for that key.',
    'If you simply release the reservation (release_paths / release_lock) the asker is told "released" by itself.',
  ].join(' '),
  input: z.strictObject({
    id: z.int().min(1).optional().describe('The request id, from the message ("release request <id>: ...").'),
    key: key.optional().describe('Instead of id: answer every pending request for this key you hold.'),
    answer: z.enum(RELEASE_ANSWERS),
    reason: why.optional().describe('Why, told to the asker.'),
  }),
  async run(args, ctx) {
    if ((args.id === undefined) === (args.key === undefined)) {
      throw refusal('INVALID_ARGUMENT', 'invalid arguments for answer_release: give id or key, not both or neither', 'pass the request id from the message, or the key; nothing was changed');
    }
    const c = ctx.backend.coordinator;
    const me = ctx.agent.name;
    const pending = args.id !== undefined
      ? [args.id]
      : (await c.releaseRequests({ key: keyOf(args.key!, ctx), holder: me, state: 'pending' })).map((r) => r.id);
    if (pending.length === 0) throw refusal('NOT_FOUND', `no pending release request to ${me} for ${args.key}`, 'nothing to answer (it may have been answered or lapsed already); your inbox has the requests', { key: args.key });
    const answered: Record<string, unknown>[] = [];
    for (const id of pending) {
      if (args.answer === 'released') await releaseHold(ctx, id);
      try {
        answered.push(requestView(await c.answerRelease(id, { from: me, answer: args.answer, ...(args.reason === undefined ? {} : { reason: args.reason }) })));
      } catch (error) {
        if (isBatonError(error, 'PERMISSION_DENIED')) throw refusal('PERMISSION_DENIED', error.message, 'that request asks another agent; answer only requests in your own inbox', { id });
        if (isBatonError(error, 'NOT_FOUND')) throw refusal('NOT_FOUND', error.message, 'check the id in the release-request message (your inbox lists them)', { id });
        throw error;
      }
    }
    return { answered, next: args.answer === 'released' ? 'the asker was told; reserve again before you edit those files' : 'the asker was told; release when you are done' };
  },
});

/** Releases this agent's hold that a request asks about, if it still has it (the request names the hold by key and token). */
async function releaseHold(ctx: ToolContext, id: number): Promise<void> {
  const request = (await ctx.backend.coordinator.releaseRequests({ holder: ctx.agent.name, state: 'pending' })).find((r) => r.id === id);
  if (request === undefined) return;
  const lease = ctx.agent.leases.get(request.key);
  if (lease === undefined || lease.token !== request.token) return;
  ctx.agent.leases.delete(request.key);
  await releaseUnlessGone(ctx.backend.coordinator, lease);
}
