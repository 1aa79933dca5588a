// baton/react: React hooks over a baton daemon's protocol, for dashboards and
// views of your own (docs/react.md). React (19.2 or later) is a peer
// dependency; nothing here loads Node modules.
export { BatonProvider, type BatonProviderProps } from './provider.ts';
export { useProtocol, shallowEqual } from './use-protocol.ts';
export { useProtocolEvent } from './use-protocol-event.ts';
export { useBatonActions } from './use-baton-actions.ts';
export { storeStats } from './registry.ts';
export type { EventPattern } from './event-match.ts';
export type { BatonActions, ConnectionState, DaemonStatus, ListName, ProtocolState, StoreStats, WhoAmI } from './types.ts';
export { BatonError, isBatonError, type ErrorCode } from '../errors.ts';
export type { BatonEvent, BudgetStatus, Lease, RateLimitStatus, Session, Task, TaskStatus } from '../coordinator.ts';
