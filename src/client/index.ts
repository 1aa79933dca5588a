// baton/client: the Coordinator through the project's daemon (or, by
// discovery, the embedded store), with the daemon's own file and git calls.
import '../require-node.ts'; // first: on an older Node, says which Node is needed before anything else loads
export { openCoordinator, daemonAlive, startDaemonProcess, type ClientOpenOptions } from './open.ts';
export { RemoteCoordinator, type RemoteOptions } from './remote.ts';
export type { FileResult } from '../protocol/daemon-operations.ts';
export { signRequest, TIMESTAMP_HEADER, SIGNATURE_HEADER } from '../protocol/signing.ts';
export type { Endpoint } from './endpoint.ts';
export type { DaemonWait, DaemonWaitHook } from './daemon-wait.ts';
export type { ResilienceOptions, BreakerOptions, BulkheadOptions } from './resilience.ts';
export type * from '../coordinator.ts';
export { campaign, leader, observe, electionKey, type CampaignOptions, type Leader, type Leadership } from '../election.ts';
export { BatonError, isBatonError, ErrorCodes, type ErrorCode } from '../errors.ts';
export type { ProjectStatus, DaemonInfo } from '../project/status.ts';
