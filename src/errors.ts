// One error type for every tier. Each error has a stable `code` from this list;
// the CLI maps it to an exit status, later surfaces map it to HTTP and MCP.

export const ErrorCodes = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'IS_A_DIRECTORY',
  'LOCK_TIMEOUT',
  'LOCKED',
  'LOCK_LOST',
  'LOCK_CORRUPT',
  'CORRUPT_FILE',
  'VALIDATION_FAILED',
  'RATE_LIMITED',
  'ABORTED',
  'IO_ERROR',
  // the coordination engine
  'LEASE_EXPIRED',
  'STALE_TOKEN',
  'CONFLICT',
  'BUDGET_EXCEEDED',
  // a project's quota (docs/quotas.md): the request was refused whole
  'QUOTA_EXCEEDED',
  'SESSION_ENDED',
  'IDEMPOTENCY_MISMATCH',
  'STORE_ERROR',
  // the daemon and its client
  'UNAUTHENTICATED',
  'OVERLOADED',
  'PAYLOAD_TOO_LARGE',
  'OUTSIDE_ROOT',
  'LEASE_REQUIRED',
  'UNAVAILABLE',
  // credentials: no usable login (none, or revoked or expired at the issuer), and a sign-in that failed
  'LOGIN_REQUIRED',
  'LOGIN_FAILED',
  // discovery: no project (git repository, $BATON_HOME, .baton) where a command was run
  'NO_PROJECT',
  // baton.toml (or a BATON_* variable overriding it) refused: the message is <file>:<line>: <reason>
  'CONFIG_INVALID',
  // a bug in baton (an answer that does not fit its published schema)
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class BatonError extends Error {
  readonly code: ErrorCode;
  /** Extra structured detail (the path, the holder record, ...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options?.details ?? {};
  }
}

export function isBatonError(error: unknown, code?: ErrorCode): error is BatonError {
  return error instanceof BatonError && (code === undefined || error.code === code);
}

/** The errno-style code of a Node system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Turns a filesystem error into a BatonError whose message says what we were
 * doing and to which path. BatonErrors pass through unchanged.
 */
export function fsError(error: unknown, action: string, path: string): BatonError {
  if (error instanceof BatonError) return error;
  const errno = errnoCode(error) ?? 'UNKNOWN';
  const where = `${action} ${path}`;
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new BatonError('NOT_FOUND', `cannot ${where}: no such file or directory (${errno})`, { cause: error, details: { path } });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new BatonError('PERMISSION_DENIED', `cannot ${where}: permission denied (${errno})`, { cause: error, details: { path } });
    // A name the file system cannot hold is the caller's to shorten, not the daemon's failure.
    case 'ENAMETOOLONG':
      return new BatonError('INVALID_ARGUMENT', `cannot ${where}: the path or one of its names is too long for the file system (ENAMETOOLONG)`, { cause: error, details: { path } });
    case 'ELOOP':
      return new BatonError('INVALID_ARGUMENT', `cannot ${where}: too many levels of symbolic links (ELOOP)`, { cause: error, details: { path } });
    case 'EISDIR':
      return new BatonError('IS_A_DIRECTORY', `cannot ${where}: it is a directory`, { cause: error, details: { path } });
    default:
      return new BatonError('IO_ERROR', `cannot ${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { path, errno } });
  }
}
