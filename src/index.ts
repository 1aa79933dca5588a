// The package root: baton's public API.
import './require-node.ts'; // first: on an older Node, says which Node is needed before anything else loads
export { BatonError, ErrorCodes, isBatonError, type ErrorCode } from './errors.ts';
export {
  acquireLock,
  withLock,
  withLocks,
  isLocked,
  readLock,
  removeLock,
  FileLocks,
  type FileLockService,
  type LockOptions,
  type LockHandle,
  type LockResult,
  type LockInfo,
  type LockHolder,
  type LockRecord,
  type LockType,
  type RemoveResult,
} from './files/lock/lock.ts';
export { AtomicWriter, writeFileAtomic, writeJsonAtomic, type AtomicWriteOptions, type WriteJsonOptions } from './files/atomic-write.ts';
export { JsonFile, type JsonFileOptions } from './files/json-file.ts';
export { appendJsonLines, readJsonLines, type AppendOptions, type ReadLinesOptions } from './files/jsonl.ts';
export { FileRateLimiter, type RateLimiterOptions, type TakeOptions, type TakeResult } from './files/rate-limiter.ts';

// The coordination engine.
export type * from './coordinator.ts';
export { openCoordinator, type OpenOptions } from './engine/open.ts';
export { Engine, type EngineOptions } from './engine/engine.ts';
export { normalizePathPattern, pathsOverlap, pathCovers } from './engine/paths.ts';
export type { Store, StoreTx } from './stores/store.ts';
export { withGitLock } from './git-lock.ts';
export { campaign, leader, observe, electionKey, type CampaignOptions, type Leader, type Leadership } from './election.ts';
