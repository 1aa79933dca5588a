// The details of one hold: the lease, its holder's session (heartbeat,
// host, pid), and getLease's answer for the key: every holder and the queue
// of waiters in arrival order, refreshed every few seconds and at once on a
// lease event for the key.
import { useState, type ReactNode } from 'react';
import { useProtocolEvent } from '../../src/react/index.ts';
import { ActionButton } from './actions.tsx';
import { heartbeatHealth } from './attention.ts';
import { DetailsPanel, Facts } from './common.tsx';
import { ago, count, dateTime, duration } from './format.ts';
import { forceRelease, Ttl } from './lease-parts.tsx';
import { leaseInfo, useLeaseInfo } from './lease-info.ts';
import type { Lease, Session } from './types.ts';

export interface LeaseDetailsProps {
  lease: Lease | undefined;
  rowKey: string | null;
  sessions: ReadonlyMap<string, Session>;
  now: number;
}

export function LeaseDetails({ lease, rowKey, sessions, now }: LeaseDetailsProps): ReactNode {
  const key = lease?.key ?? (rowKey !== null && !rowKey.startsWith('dir:') && rowKey.includes('#') ? rowKey.slice(0, rowKey.lastIndexOf('#')) : null);
  const [bump, setBump] = useState<number | null>(null);
  useProtocolEvent('lease.*', (e) => {
    if (e.key === key) setBump(e.seq);
  });
  useLeaseInfo(key === null ? [] : [key], bump);

  if (rowKey === null) return <DetailsPanel title="Details">Select a row (↑ ↓ or J K) to see its details.</DetailsPanel>;
  if (rowKey.startsWith('dir:')) return <DetailsPanel title={rowKey.slice(4)}>A directory of the path tree: select a reservation below it.</DetailsPanel>;

  const info = key === null ? undefined : leaseInfo.get(key);
  const session = lease?.sessionId == null ? undefined : sessions.get(lease.sessionId);
  return (
    <DetailsPanel title={key ?? rowKey}>
      {lease === undefined ? (
        <p className="muted">This hold has ended (released, expired or forced).</p>
      ) : (
        <>
          <Facts
            rows={[
              ['Owner', lease.owner],
              ['Mode', lease.mode],
              ['Fencing token', count(lease.token)],
              ['Acquired', `${dateTime(lease.acquiredAt)} (${ago(lease.acquiredAt, now)})`],
              ['TTL', <Ttl lease={lease} now={now} />],
              ['Session', lease.sessionId ?? 'none (lapses by TTL only)'],
            ]}
          />
          {session !== undefined ? (
            <>
              <h4>Holder's session</h4>
              <Facts
                rows={[
                  ['Agent', `${session.name} (${session.kind})`],
                  ['Host / pid', `${session.host}${session.pid === null ? '' : ` / ${session.pid}`}`],
                  ['Last heartbeat', `${ago(session.heartbeatAt, now)} · ${heartbeatHealth(session, now)} (TTL ${duration(session.ttlMs)})`],
                ]}
              />
            </>
          ) : null}
          <div className="details-actions">
            <ActionButton make={() => forceRelease(lease)} label="Force-release this hold" />
          </div>
        </>
      )}
      <h4>Holders and waiters of {key}</h4>
      {info === undefined ? (
        <p className="muted">Asking the daemon…</p>
      ) : (
        <>
          <ul className="plain" data-testid="lease-holders">
            {info.holders.map((h) => (
              <li key={h.token}>
                holder {h.owner} ({h.mode}, token {h.token})
              </li>
            ))}
          </ul>
          {info.waiters.length === 0 ? (
            <p className="muted">Nobody is waiting.</p>
          ) : (
            <ol className="plain" data-testid="lease-waiters">
              {info.waiters.map((w, i) => (
                <li key={`${w.owner}-${w.since}-${i}`} data-testid="lease-waiter">
                  {w.owner} ({w.mode}) waiting {duration(now - w.since)}
                </li>
              ))}
            </ol>
          )}
          <p className="muted small">As of {ago(info.fetchedAt, now)}.</p>
        </>
      )}
    </DetailsPanel>
  );
}
