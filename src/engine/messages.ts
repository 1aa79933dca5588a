// Messages between agents: sending. A message is one row and each of its
// recipients gets an inbox entry (messages-inbox.ts reads and marks them).
// Inboxes are keyed by agent name, not session, so they outlive an agent's
// restarts and the daemon's. Other engine modules (release requests,
// violations) send with `deliver` inside their own transaction.
import type { MessageImportance, MessageKind, MessageTarget, SendMessage, SentMessage } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { MAX_KEY_LENGTH, MAX_MESSAGE_BODY_LENGTH, MAX_MESSAGE_RECIPIENTS, MAX_MESSAGE_SUBJECT_LENGTH, MAX_NAME_LENGTH, MESSAGE_IMPORTANCES, MESSAGE_KINDS, PATH_PREFIX } from '../limits.ts';
import type { StoreTx } from '../stores/store.ts';
import { emit } from './events.ts';
import { holderNameIn } from './holder-name.ts';
import { isPathKey, leaseInfo, listLeases, normalizeKey } from './leases.ts';
import { pathsOverlap } from './paths.ts';
import { invalid, requireOneOf, requireString, show } from './validate.ts';

export type { MessageTarget, SentMessage } from '../coordinator.ts';

/** A target checked: exactly one way. */
type Target = { agent: string } | { agents: string[] } | { holdersOf: string } | { all: true };

/**
 * What an engine module hands `deliver`. `kind` 'release-request': the MCP
 * tools' next-call note reads "release request for <ref> from <from>", so
 * `ref` is the key asked for there. `ref` of other kinds: free (a path, an id).
 */
export interface OutgoingMessage {
  from: string;
  to: MessageTarget;
  subject: string;
  body?: string;
  thread?: string | null;
  importance?: MessageImportance;
  kind?: MessageKind;
  ref?: string | null;
}

/** A message checked: every field present, the target as given (resolved in the transaction). */
export interface CheckedMessage {
  from: string;
  to: Target;
  subject: string;
  body: string;
  thread: string | null;
  importance: MessageImportance;
  kind: MessageKind;
  ref: string | null;
}

/** How many known names an unknown recipient's error offers. */
const SUGGESTIONS = 5;
/** The most known names read to find them. */
const KNOWN_NAMES_READ = 10_000;

export function checkName(name: string, value: unknown): string {
  return requireString(name, value, { max: MAX_NAME_LENGTH });
}

function checkTarget(to: unknown): Target {
  if (typeof to !== 'object' || to === null || Array.isArray(to)) throw invalid(`to must be { agent }, { agents }, { holdersOf } or { all: true }, not ${show(to)}`);
  const t = to as Record<string, unknown>;
  const fields = Object.keys(t).filter((k) => t[k] !== undefined);
  if (fields.length !== 1) throw invalid(`to must name exactly one of agent, agents, holdersOf or all, not ${fields.length === 0 ? 'none' : fields.join(' and ')}`);
  if ('agent' in t && t.agent !== undefined) return { agent: checkName('to.agent', t.agent) };
  if ('agents' in t && t.agents !== undefined) {
    if (!Array.isArray(t.agents) || t.agents.length === 0) throw invalid(`to.agents must be a non-empty array of names, not ${show(t.agents)}`);
    if (t.agents.length > MAX_MESSAGE_RECIPIENTS) throw invalid(`to.agents names at most ${MAX_MESSAGE_RECIPIENTS} agents, not ${t.agents.length}`);
    return { agents: t.agents.map((a: unknown, i) => checkName(`to.agents[${i}]`, a)) };
  }
  if ('holdersOf' in t && t.holdersOf !== undefined) return { holdersOf: normalizeKey(t.holdersOf) };
  if ('all' in t && t.all === true) return { all: true };
  throw invalid(`to must be { agent }, { agents }, { holdersOf } or { all: true }; got a field ${JSON.stringify(fields[0])}${'all' in t ? ' (all must be true)' : ''}`);
}

/** Checks a message before any transaction: bounded, well-formed, the target's shape. */
export function checkMessage(message: OutgoingMessage | SendMessage): CheckedMessage {
  if (typeof message !== 'object' || message === null) throw invalid('a message needs { from, to, subject, body? }');
  const m = message as OutgoingMessage;
  return {
    from: checkName('from', m.from),
    to: checkTarget(m.to),
    subject: requireString('subject', m.subject, { max: MAX_MESSAGE_SUBJECT_LENGTH }),
    body: m.body === undefined || m.body === '' ? '' : requireString('body', m.body, { max: MAX_MESSAGE_BODY_LENGTH }),
    thread: m.thread === undefined || m.thread === null ? null : checkName('thread', m.thread),
    importance: requireOneOf('importance', m.importance, MESSAGE_IMPORTANCES, 'normal'),
    kind: requireOneOf('kind', m.kind, MESSAGE_KINDS, 'message'),
    ref: m.ref === undefined || m.ref === null ? null : requireString('ref', m.ref, { max: MAX_KEY_LENGTH }),
  };
}

/** Known names ranked by how much of the typed name they begin with, then by name. */
function nearest(typed: string, known: string[]): string[] {
  const lower = typed.toLowerCase();
  const shared = (name: string): number => {
    const n = name.toLowerCase();
    let i = 0;
    while (i < n.length && i < lower.length && n[i] === lower[i]) i++;
    return i;
  };
  return known
    .map((name) => ({ name, score: shared(name) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, SUGGESTIONS)
    .map((x) => x.name);
}

async function unknownRecipient(tx: StoreTx, name: string): Promise<BatonError> {
  const known = (await tx.all<{ name: string }>('messageKnownNames', { limit: KNOWN_NAMES_READ })).map((r) => r.name);
  const offer = nearest(name, known);
  const hint = offer.length === 0 ? 'no agent is known yet' : `known agents include ${offer.map((n) => JSON.stringify(n)).join(', ')}`;
  return new BatonError('NOT_FOUND', `no agent named ${JSON.stringify(name)} is known (no session, lease, inbox or sent message has that name); ${hint}`, {
    details: { recipient: name, known: offer },
  });
}

/**
 * The names the holders of a key are known by (each lease's session's name,
 * else its owner: an MCP agent's owner also carries its reason); for a path
 * key, the holders of every path lease overlapping it.
 */
export async function holdersOf(tx: StoreTx, key: string): Promise<string[]> {
  const pattern = key.slice(PATH_PREFIX.length);
  const leases = isPathKey(key)
    ? (await listLeases(tx, PATH_PREFIX)).filter((l) => pathsOverlap(pattern, l.key.slice(PATH_PREFIX.length)))
    : (await leaseInfo(tx, key)).holders;
  const names: string[] = [];
  for (const lease of leases) names.push(await holderNameIn(tx, lease.owner, lease.sessionId));
  return names;
}

/**
 * Who gets a message, each once, in the order named. Named recipients must
 * be known (a typo is refused, not a new inbox nobody reads); sending to
 * yourself by name is allowed. `holdersOf` and `all` leave the sender out.
 */
async function resolveRecipients(tx: StoreTx, from: string, to: Target): Promise<string[]> {
  let names: string[];
  if ('agent' in to || 'agents' in to) {
    names = [...new Set('agent' in to ? [to.agent] : to.agents)];
    const known = new Set((await tx.all<{ name: string }>('messageNamesKnown', { names: JSON.stringify(names) })).map((r) => r.name));
    const missing = names.find((n) => n !== from && !known.has(n));
    if (missing !== undefined) throw await unknownRecipient(tx, missing);
    return names;
  }
  if ('holdersOf' in to) {
    const holders = await holdersOf(tx, to.holdersOf);
    names = [...new Set(holders)].filter((n) => n !== from);
    if (names.length === 0) {
      const why = holders.length > 0 ? `nobody but you (${JSON.stringify(from)}) holds ${to.holdersOf}` : `nobody holds ${to.holdersOf}`;
      throw new BatonError('NOT_FOUND', `${why}${isPathKey(to.holdersOf) ? ' or a path overlapping it' : ''}: no one to send to`, { details: { key: to.holdersOf } });
    }
  } else {
    const live = await tx.all<{ name: string }>('sessionList');
    names = [...new Set(live.map((s) => s.name))].filter((n) => n !== from);
    if (names.length === 0) throw new BatonError('NOT_FOUND', `no live agent but the sender (${JSON.stringify(from)}) to send to`);
  }
  if (names.length > MAX_MESSAGE_RECIPIENTS) throw invalid(`a message goes to at most ${MAX_MESSAGE_RECIPIENTS} agents; ${'all' in to ? 'all' : `holdersOf ${to.holdersOf}`} is ${names.length}: name them in groups`);
  return names;
}

/**
 * Sends a message inside the caller's transaction and emits `message.sent`
 * (no body: the event log is readable more widely than an inbox). Takes the
 * 'messages' lock (PostgreSQL: ids then increase in commit order, so an
 * inbox read `after` an id never skips a later commit).
 *
 * Lock order on PostgreSQL, everywhere: 'sweep', a caller's own advisory
 * locks ('release-request:<asker>'), then 'messages', then row locks
 * (release_requests), lease locks ('lease:<key>') and event_head (any emit)
 * last. So take 'messages' before the first emit: the sweeper takes it before
 * it sweeps, and settling a release request before its UPDATE. Taken after
 * event_head, two such writers wait for each other until PostgreSQL's
 * deadlock check (1 s) aborts one.
 */
export async function deliver(tx: StoreTx, message: OutgoingMessage): Promise<SentMessage> {
  const m = checkMessage(message);
  const recipients = await resolveRecipients(tx, m.from, m.to);
  await tx.lock('messages');
  const { lastId: id } = await tx.run('messageInsert', {
    now: tx.now, thread: m.thread ?? '', sender: m.from, subject: m.subject, body: m.body, importance: m.importance, kind: m.kind, ref: m.ref,
  });
  const thread = m.thread ?? `m${id}`;
  if (m.thread === null) tx.defer('messageSetThread', { id });
  tx.defer('recipientsInsert', { id, names: JSON.stringify(recipients) });
  await emit(tx, 'message.sent', thread, m.from, { id, thread, from: m.from, to: recipients, subject: m.subject, importance: m.importance, kind: m.kind, ref: m.ref });
  return { id, thread, recipients, at: tx.now };
}
