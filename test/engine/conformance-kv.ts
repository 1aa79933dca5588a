// Conformance cases of shared state with revisions, run by conformance.ts on every backend and transport.
import type { WithCoordinator } from './conformance.ts';

export function kvConformance(_withCoordinator: WithCoordinator): void {
  // cases come here
}
