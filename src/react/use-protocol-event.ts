// useProtocolEvent(type, handler): run `handler` for each new event of a type
// as it arrives. A notification, not state: nothing re-renders by itself.
// The subscription depends on the store and the type only; the handler is
// read through useEffectEvent (React 19.2), so passing a new function each
// render (the usual inline closure) calls the newest one and never
// resubscribes, and no event is missed or doubled around a render.
import { useEffect, useEffectEvent } from 'react';
import type { BatonEvent } from '../coordinator.ts';
import { eventMatcher, patternKey, type EventPattern } from './event-match.ts';
import { useStore } from './provider.ts';

export function useProtocolEvent(type: EventPattern, handler: (event: BatonEvent) => void): void {
  const store = useStore();
  const onEvent = useEffectEvent(handler);
  // A string, so an inline array of the same types is the same dependency.
  const key = patternKey(type);
  useEffect(() => store.onEvent(eventMatcher(key.split('\n')), (event) => onEvent(event)), [store, key]);
}
