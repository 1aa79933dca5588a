// The session a `task claim` claims for. A claim belongs to a session, and
// ending the session puts its claimed tasks back, so the session must outlive
// its claims; but a `baton` process ends at once. So:
// - `--session <id>`: that session, never ended here;
// - `--name <agent>`: the live session of that name, else a new one (one agent
//   in `baton agents` however many claims it makes); it lapses on its own;
// - neither: a session of its own ("cli"), ended as soon as the last of its
//   claims is completed, failed or released through the CLI.
// Sessions this file makes have no pid and no automatic heartbeat: their
// heartbeat deadline is the claim time, and `task renew` heartbeats them.
import type { Coordinator, Session } from '../coordinator.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { defaultOwner } from '../git-lock.ts';
import { DEFAULT_CLAIM_MS, MAX_LIST_LIMIT, MIN_SESSION_TTL_MS } from '../limits.ts';
import { duration } from './output.ts';

/** The name of the session a claim with neither --session nor --name makes. */
export const ANONYMOUS = 'cli';
const KIND = 'cli';
/** The label that marks a session `task claim` made, and whether anyone else may reuse it. */
const MADE_BY = 'baton task claim';
const LABEL = 'made-by';
const FOR_ONE_CLAIM = 'one claim';

export interface ClaimSession {
  id: string;
  name: string;
  /** Registered by this command: ended at once if it claims nothing. */
  made: boolean;
  /** Made by this claim for itself: ended when its last claim is settled through the CLI. */
  own: boolean;
  /** A warning to print, if the session will lapse before the claim does. */
  warning: string | undefined;
}

/** A session `task claim` made: only these does the CLI heartbeat or end. */
export function madeByClaim(s: Session): boolean {
  return s.kind === KIND && s.labels[LABEL] !== undefined && s.labels[LABEL].startsWith(MADE_BY) && s.endedAt === null;
}

function ownClaimSession(s: Session): boolean {
  return madeByClaim(s) && s.labels[LABEL] === `${MADE_BY}: ${FOR_ONE_CLAIM}`;
}

function lapseWarning(s: Session, leaseMs: number): string | undefined {
  if (!madeByClaim(s) || leaseMs <= s.ttlMs) return undefined;
  return `session ${s.id} (${s.name}) lapses ${duration(s.ttlMs)} after its last heartbeat, and its claims with it; 'task renew' keeps it alive`;
}

async function register(c: Coordinator, name: string, leaseMs: number, purpose: string): Promise<Session> {
  return c.register({
    name,
    kind: KIND,
    pid: null, // this process ends at once; the claim's time bounds the session instead
    ttlMs: Math.max(MIN_SESSION_TTL_MS, leaseMs),
    autoHeartbeat: false,
    labels: { owner: defaultOwner(), [LABEL]: `${MADE_BY}: ${purpose}` },
  });
}

/** The session to claim for, as --session and --name choose it (see the top of this file). */
export async function claimSession(c: Coordinator, options: { session?: string | undefined; name?: string | undefined; leaseMs?: number | undefined }): Promise<ClaimSession> {
  const leaseMs = options.leaseMs ?? DEFAULT_CLAIM_MS;
  if (options.session !== undefined) {
    const s = await c.getSession(options.session);
    if (options.name !== undefined && s.name !== options.name) {
      throw new BatonError('INVALID_ARGUMENT', `session ${s.id} is named ${JSON.stringify(s.name)}, not ${JSON.stringify(options.name)}`, { details: { sessionId: s.id } });
    }
    return { id: s.id, name: s.name, made: false, own: false, warning: lapseWarning(s, leaseMs) };
  }
  if (options.name !== undefined) {
    const live = (await c.listSessions()).filter((s) => s.name === options.name);
    if (live.length > 1) {
      throw new BatonError('INVALID_ARGUMENT', `${live.length} live sessions are named ${JSON.stringify(options.name)} (${live.map((s) => s.id).join(', ')}); give --session <id>`, {
        details: { sessions: live.map((s) => s.id) },
      });
    }
    const found = live[0];
    if (found !== undefined && (await stillLive(c, found))) return { id: found.id, name: found.name, made: false, own: false, warning: lapseWarning(found, leaseMs) };
    const made = await register(c, options.name, leaseMs, 'named');
    return { id: made.id, name: made.name, made: true, own: false, warning: undefined };
  }
  const made = await register(c, ANONYMOUS, leaseMs, FOR_ONE_CLAIM);
  return { id: made.id, name: made.name, made: true, own: true, warning: undefined };
}

/** A session an earlier claim made gets its heartbeat from us (an agent's own session heartbeats itself); false if it lapsed meanwhile. */
async function stillLive(c: Coordinator, s: Session): Promise<boolean> {
  if (!madeByClaim(s)) return true;
  try {
    await c.heartbeat(s.id);
    return true;
  } catch (error) {
    if (isBatonError(error, 'SESSION_ENDED')) return false;
    throw error;
  }
}

/** The claim session behind a task's claimedBy, if `task claim` made it and it is live. */
export async function claimSessionOf(c: Coordinator, sessionId: string | null): Promise<Session | undefined> {
  if (sessionId === null) return undefined;
  try {
    const s = await c.getSession(sessionId);
    return madeByClaim(s) ? s : undefined;
  } catch (error) {
    if (isBatonError(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

/**
 * After a claim of `sessionId` was completed, failed or released: if the
 * session is one a claim made for itself and it holds no other claim, end it.
 * Nothing is put back: it holds no claimed task. (Only `--session <its id>`,
 * given by hand while this runs, could add one in between.)
 */
export async function endIfSettled(c: Coordinator, sessionId: string | null): Promise<void> {
  const s = await claimSessionOf(c, sessionId);
  if (s === undefined || !ownClaimSession(s)) return;
  const claimed = await c.listTasks({ status: 'claimed', limit: MAX_LIST_LIMIT });
  if (claimed.some((t) => t.claimedBy === s.id)) return;
  await c.endSession(s.id, { reason: 'its claims are settled' });
}
