// The request id every daemon request carries: the caller's X-Request-ID when
// it is short and plain (it goes into log lines and traces as it came), else
// one of the daemon's own. It is echoed on the answer as x-request-id.
import { randomUUID } from 'node:crypto';
import { MAX_REQUEST_ID_LENGTH } from '../limits.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Letters, digits and . _ : - only: nothing a log reader or a terminal could mistake for structure. */
const PLAIN = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_REQUEST_ID_LENGTH}}$`);

/** Whether `id` is one the daemon keeps (and so one it may have echoed). */
export function isPlainRequestId(id: string): boolean {
  return PLAIN.test(id);
}

/** The caller's id if it is acceptable, else a new one (a UUID). A repeated header is not one id: replaced. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && isPlainRequestId(incoming) ? incoming : randomUUID();
}
