// One mapping from error codes to HTTP statuses, used by the daemon (to
// answer) and the client (to decide what may be retried).
import type { ErrorCode } from '../errors.ts';

export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'VALIDATION_FAILED':
    case 'IS_A_DIRECTORY':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'BUDGET_EXCEEDED':
      return 402;
    case 'PERMISSION_DENIED':
    case 'OUTSIDE_ROOT':
    case 'LEASE_REQUIRED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'STALE_TOKEN':
    case 'LEASE_EXPIRED':
    case 'SESSION_ENDED':
    case 'IDEMPOTENCY_MISMATCH':
    case 'LOCK_LOST':
    // Not 429: clients retry 429 by themselves, and a quota frees only when work ends, which a retry cannot hurry.
    case 'QUOTA_EXCEEDED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'LOCKED':
    case 'LOCK_TIMEOUT':
      return 423;
    case 'RATE_LIMITED':
    case 'OVERLOADED':
      return 429;
    case 'ABORTED':
      return 499;
    case 'UNAVAILABLE':
      return 503;
    // No usable login, or a sign-in the issuer refused: a dependency failed, not the request.
    case 'LOGIN_REQUIRED':
    case 'LOGIN_FAILED':
      return 424;
    default:
      return 500;
  }
}

/** Statuses a client may retry with the same idempotency key. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 503;
}
