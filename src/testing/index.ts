// baton/testing: helpers for users' own tests of code that uses baton.
import '../require-node.ts'; // first: on an older Node, says which Node is needed before anything else loads
export { runConcurrent, verifyNoLostUpdates, type ConcurrentOutcome, type LostUpdateReport } from './concurrency.ts';
export { ScriptedLockService, type ScriptedOutcome } from './scripted-lock-service.ts';
