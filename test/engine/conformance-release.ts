// Conformance cases of release requests, run by conformance.ts on every backend and transport.
import type { WithCoordinator } from './conformance.ts';

export function releaseConformance(_withCoordinator: WithCoordinator): void {
  // cases come here
}
