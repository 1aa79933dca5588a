// The next-call note: a tool result of an agent with new unread high or
// urgent messages, release requests or their answers ends with one line
// saying so ("1 release request for path:src/auth/** from bob: call inbox").
// One cheap read per call (the inbox's notable entries after the last one
// noted: usually none), and each message is noted once: the note moves past
// it whether or not the agent reads it then.
import type { InboxEntry } from '../../coordinator.ts';
import type { AgentState } from './agent.ts';
import type { ToolContext } from './tool.ts';

/** The most entries one note looks at (the rest wait for the next call). */
const NOTE_PAGE = 20;
/** Release requests and answers one note names, each; more are counted. */
const NAMED = 3;

/** The highest message id each connection's agent was told of (keyed by its state: one per connection). */
const noted = new WeakMap<AgentState, { name: string; id: number }>();

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The first few, and how many more. */
function named(items: string[]): string[] {
  return items.length > NAMED ? [...items.slice(0, NAMED), `${items.length - NAMED} more`] : items;
}

/** The note for these new entries, or undefined when there is nothing to say. */
export function noteFor(entries: InboxEntry[]): string | undefined {
  if (entries.length === 0) return undefined;
  const asks = entries.filter((e) => e.kind === 'release-request');
  const answers = entries.filter((e) => e.kind === 'release-answer');
  const others = entries.filter((e) => e.kind !== 'release-request' && e.kind !== 'release-answer');
  const parts: string[] = [];
  if (others.length > 0) {
    const urgent = others.filter((e) => e.importance === 'urgent').length;
    const from = [...new Set(others.map((e) => e.from))];
    parts.push(`${plural(others.length, 'unread message')}${urgent > 0 ? ` (${urgent} urgent)` : ''} from ${named(from).join(', ')}`);
  }
  if (asks.length > 0) parts.push(`${asks.length === 1 ? '1 release request' : `${asks.length} release requests`}: ${named(asks.map((e) => `for ${e.ref ?? e.subject} from ${e.from}`)).join('; ')}`);
  if (answers.length > 0) parts.push(`${plural(answers.length, 'answer')} to your release requests: ${named(answers.map((e) => e.subject)).join('; ')}`);
  const next = asks.length > 0 ? 'call inbox, and answer_release for each request' : 'call inbox';
  return `${parts.join(', ')}: ${next}`;
}

/**
 * The note to end this call's result with, if new notable messages came.
 * A failed read says nothing: the note is a courtesy, never the call's failure.
 */
export async function inboxNote(ctx: ToolContext): Promise<string | undefined> {
  const name = ctx.agent.name;
  let seen = noted.get(ctx.agent);
  // A renamed agent (the handshake named it after a first call) starts over with its own inbox.
  if (seen === undefined || seen.name !== name) noted.set(ctx.agent, (seen = { name, id: 0 }));
  const entries = await ctx.backend.coordinator.inbox(name, { unread: true, notable: true, after: seen.id, limit: NOTE_PAGE }).catch(() => []);
  const last = entries.at(-1);
  if (last !== undefined) seen.id = Math.max(seen.id, last.id);
  return noteFor(entries);
}

/** Marks messages as noted: the agent has just seen them (the inbox tool's own answer), so no note repeats them. */
export function markNoted(agent: AgentState, ids: number[]): void {
  const seen = noted.get(agent);
  if (seen !== undefined && seen.name === agent.name) seen.id = Math.max(seen.id, ...ids);
  else noted.set(agent, { name: agent.name, id: Math.max(0, ...ids) });
}
