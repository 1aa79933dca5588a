// What PostgreSQL's failures mean to a caller: retry (serialization failure,
// deadlock, lock not available), unreachable (UNAVAILABLE: try again later),
// or the store's own problem (STORE_ERROR), each in one line that names the
// target but never the password.
import { BatonError } from '../../errors.ts';

/** SQLSTATEs after which the whole transaction is run again: it was rolled back and nothing of it holds. */
const RETRY_STATES = new Set(['40001', '40P01', '55P03']);

/** Connection-level failures: the transaction (if any) was rolled back by the server, or never began. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '25006']);

function fields(error: unknown): { code?: string; message: string } {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const e = error as { code?: unknown; message?: unknown };
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: typeof e.message === 'string' ? e.message : String(error) };
}

export function isRetryable(error: unknown): boolean {
  const { code } = fields(error);
  return code !== undefined && RETRY_STATES.has(code);
}

/** The connection failed or was cut: nothing of a transaction not yet committing holds. */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = fields(error);
  if (code !== undefined && (CONNECTION_ERRNOS.has(code) || UNAVAILABLE_STATES.has(code))) return true;
  return /Connection terminated|connection error|not queryable|Client was closed|timeout expired/i.test(message);
}

/** A BatonError for a failure of the database at `target` (user@host:port/db). */
export function storeError(error: unknown, target: string): BatonError {
  if (error instanceof BatonError) return error;
  const { code, message } = fields(error);
  const oneLine = message.replace(/\s+/g, ' ').trim();
  const details = { store: 'postgres', target, ...(code === undefined ? {} : { sqlstate: code }) };
  if (code === '28P01' || code === '28000') {
    return new BatonError('STORE_ERROR', `PostgreSQL at ${target} refused the login: ${oneLine} (${code}); check the user and password in the url`, { cause: error, details });
  }
  if (code === '3D000') return new BatonError('STORE_ERROR', `PostgreSQL at ${target}: ${oneLine} (${code}); create it first`, { cause: error, details });
  if (code === '53300') {
    return new BatonError('UNAVAILABLE', `PostgreSQL at ${target} has no connection free (${oneLine}, ${code}): raise max_connections, or lower the pool size of each daemon`, {
      cause: error,
      details,
    });
  }
  if (isConnectionLost(error)) return new BatonError('UNAVAILABLE', `cannot reach PostgreSQL at ${target}: ${oneLine}${code === undefined ? '' : ` (${code})`}`, { cause: error, details });
  return new BatonError('STORE_ERROR', `PostgreSQL at ${target}: ${oneLine}${code === undefined ? '' : ` (${code})`}`, { cause: error, details });
}
