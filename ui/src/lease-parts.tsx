// How a lease reads anywhere on the page (its holder, its TTL) and the
// force-release action, shared by the list, the path tree and the details.
import type { ReactNode } from 'react';
import type { ActionRequest } from './actions.tsx';
import { EXPIRY_WARN_MS } from './attention.ts';
import { duration } from './format.ts';
import type { Lease, Session } from './types.ts';

export function forceRelease(l: Lease): ActionRequest {
  return {
    kind: 'force-release',
    title: `Force-release ${l.key}`,
    description: `Ends ${l.owner}'s hold on ${l.key} (fencing token ${l.token}). Its holder learns it lost the lease the next time it renews or checks; the next waiter gets it.`,
    operation: 'forceRelease',
    body: { key: l.key, token: l.token },
    input: { field: 'reason', label: 'Reason', required: false, initial: 'released from the dashboard' },
  };
}

export function holderText(l: Lease, session: Session | undefined): string {
  if (session === undefined) return l.owner;
  const where = `${session.pid === null ? '' : `pid ${session.pid}@`}${session.host}`;
  return session.name === l.owner ? `${l.owner} · ${where}` : `${l.owner} · ${session.name} · ${where}`;
}

export function Ttl({ lease, now }: { lease: Lease; now: number }): ReactNode {
  if (lease.expiresAt === null) return <span className="muted" title="no expiry: it ends with its session">with session</span>;
  const left = lease.expiresAt - now;
  return <span className={left <= 0 ? 'crit' : left < EXPIRY_WARN_MS ? 'warn' : undefined}>{left <= 0 ? `lapsed ${duration(-left)} ago` : duration(left)}</span>;
}
