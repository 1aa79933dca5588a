// Leases: a key held exclusively or shared, with a fencing token.
import { z } from 'zod';
import { MAX_KEY_LENGTH } from '../limits.ts';
import { id, key, leaseMode, mutation, name, reason, time, token, ttl, wait } from './fields.ts';

export const lease = z
  .strictObject({
    key,
    owner: z.string(),
    mode: leaseMode,
    token: z.int().describe('The fencing token: it strictly increases per key for the life of the store.'),
    acquiredAt: time,
    expiresAt: time.nullable().describe('When the lease lapses unless renewed; null when bound to a session only.'),
    sessionId: z.string().nullable().describe('A lease bound to a session ends with it.'),
  })
  .describe('A held lease.');

export const leaseRef = z.strictObject({ key, token }).describe('What a caller presents to prove it holds a lease.');

export const leaseWaiter = z.strictObject({ key, owner: z.string(), mode: leaseMode, since: time });

export const leaseInfo = z.strictObject({ key, holders: z.array(lease), waiters: z.array(leaseWaiter) });

export const acquireOptions = mutation.extend({
  owner: name,
  mode: leaseMode.optional(),
  ttlMs: ttl.optional().describe('Lease lifetime; it lapses unless renewed. Default 60 s, at most a year; 0 means no expiry (only with a session).'),
  timeoutMs: wait.optional().describe('How long to wait for a conflicting holder, in arrival order. 0: fail at once with LOCKED. Default 30 s, at most 2^31-1 ms.'),
  sessionId: id.optional().describe('Bind the lease to a session: it is released when the session ends.'),
});

export const renewOptions = mutation.extend({ ttlMs: ttl.optional().describe('The new lifetime, from now (at most a year).') });

export const forceReleaseOptions = mutation.extend({
  token: token.optional().describe('End only the hold with this token.'),
  reason: reason.optional(),
});

export const listLeasesOptions = z.strictObject({ prefix: z.string().max(MAX_KEY_LENGTH).optional() });
