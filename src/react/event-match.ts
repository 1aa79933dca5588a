// Which events a useProtocolEvent handler wants: '*' for all, 'task.*' for a
// family (the prefix up to and with the dot), any other string for one type,
// or a list of these.
import type { BatonEvent } from '../coordinator.ts';

export type EventPattern = string | readonly string[];

export function eventMatcher(pattern: EventPattern): (event: BatonEvent) => boolean {
  const patterns = typeof pattern === 'string' ? [pattern] : [...pattern];
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (event) => exact.has(event.type) || prefixes.some((p) => event.type.startsWith(p));
}

/** A value that stays equal across renders for an equal pattern (an inline array is new each time). */
export function patternKey(pattern: EventPattern): string {
  return typeof pattern === 'string' ? pattern : pattern.join('\n');
}
