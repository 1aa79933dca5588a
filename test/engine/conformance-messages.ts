// Conformance cases of messages between agents, run by conformance.ts on every backend and transport.
import type { WithCoordinator } from './conformance.ts';

export function messagesConformance(_withCoordinator: WithCoordinator): void {
  // cases come here
}
