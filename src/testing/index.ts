// baton/testing: helpers for users' own tests of code that uses baton.
export { runConcurrent, verifyNoLostUpdates, type ConcurrentOutcome, type LostUpdateReport } from './concurrency.ts';
export { ScriptedLockService, type ScriptedOutcome } from './scripted-lock-service.ts';
