// Release requests: an agent that waits for (or was refused) a key asks its
// holders to let go; each holder answers, or baton answers for it when the
// hold ends or the request lapses (docs/messages.md, Release requests).
import { z } from 'zod';
import { DEFAULT_RELEASE_REQUEST_TTL_MS, MAX_LIST_LIMIT, MAX_REASON_LENGTH, MAX_RELEASE_REQUEST_TTL_MS, RELEASE_ANSWERS, RELEASE_REQUEST_STATES } from '../limits.ts';
import { key, mutation, name, time } from './fields.ts';

export const releaseRequestState = z.enum(RELEASE_REQUEST_STATES);
export const releaseAnswer = z.enum(RELEASE_ANSWERS);
export const releaseRequestId = z.int().min(1);
const why = z.string().min(1).max(MAX_REASON_LENGTH);

export const requestReleaseOptions = mutation.extend({
  from: name.describe('The asker, as the holder sees it: the name its session registered, or the owner it acquires under.'),
  reason: why.describe('Why you need it, shown to the holder.'),
  ttlMs: z.int().min(1).max(MAX_RELEASE_REQUEST_TTL_MS).optional()
    .describe(`Unanswered this long, the request lapses and you are told. Default ${DEFAULT_RELEASE_REQUEST_TTL_MS / 60_000} minutes, at most a day.`),
});

export const answerReleaseOptions = mutation.extend({
  from: name.describe("The holder answering: the request's holder, by the same name."),
  answer: releaseAnswer.describe("'declined', or 'released' once you no longer hold it (refused while you still do)."),
  reason: why.optional().describe('Why, told to the asker.'),
});

export const releaseRequestFilter = z.strictObject({
  key: key.optional().describe('Only requests for this held key.'),
  holder: name.optional(),
  asker: name.optional(),
  state: releaseRequestState.optional(),
  limit: z.int().min(1).max(MAX_LIST_LIMIT).optional(),
});

export const releaseRequest = z
  .strictObject({
    id: releaseRequestId,
    key: key.describe('The key the holder holds (for a path request, the overlapping path lease).'),
    token: z.int().describe('The fencing token of the hold asked about: a later hold of the same key is not asked.'),
    holder: z.string(),
    asker: z.string(),
    reason: z.string(),
    state: releaseRequestState,
    answer: z.string().nullable().describe("The answer's reason, once answered."),
    thread: z.string().nullable().describe('The message thread of the request and its answer.'),
    createdAt: time,
    expiresAt: time.describe('When it lapses unless answered.'),
    answeredAt: time.nullable(),
  })
  .describe('A request to release one hold.');
