// The header: which daemon and store this is, the last event applied, and the
// connection: a badge whose text (not only its colour) says live, connecting,
// reconnecting or polling, plus paused while the person holds the stream.
import type { ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { useNow } from './clock.ts';
import { count, duration } from './format.ts';
import type { ProjectStatus } from './types.ts';

const BADGE = {
  live: { icon: '●', text: 'Live', help: 'Events stream in as they happen.' },
  connecting: { icon: '○', text: 'Connecting', help: 'Opening the event stream.' },
  reconnecting: { icon: '↻', text: 'Reconnecting', help: 'The stream dropped; reconnecting where it left off (no event is lost).' },
  polling: { icon: '⇅', text: 'Polling', help: 'The event stream is unavailable; asking for new events every few seconds instead.' },
} as const;

export function ConnectionBadge(): ReactNode {
  const connection = useProtocol((s) => s.connection);
  const paused = useProtocol((s) => s.paused);
  const badge = BADGE[connection];
  return (
    // A status region: a screen reader hears "Reconnecting" and "Live" as they change.
    <span className="badges" role="status">
      <span className={`badge connection ${connection}`} data-testid="connection" data-state={connection} title={badge.help}>
        <span aria-hidden="true">{badge.icon}</span> {badge.text}
      </span>
      {paused ? (
        <span className="badge paused" data-testid="paused" title="The page is frozen; events are kept and applied on resume (S).">
          <span aria-hidden="true">❚❚</span> Paused
        </span>
      ) : null}
    </span>
  );
}

function asStatus(status: unknown): ProjectStatus | null {
  return typeof status === 'object' && status !== null && 'daemon' in status ? (status as ProjectStatus) : null;
}

export function Header({ children }: { children: ReactNode }): ReactNode {
  const status = asStatus(useProtocol((s) => s.status));
  const seq = useProtocol((s) => s.seq);
  const whoami = useProtocol((s) => s.whoami);
  const error = useProtocol((s) => s.error);
  const now = useNow();
  const daemon = status?.daemon ?? null;

  return (
    <header className="header" data-testid="header">
      <div className="header-main">
        <h1>baton</h1>
        <dl className="facts">
          <div data-testid="daemon">
            <dt>Daemon</dt>
            <dd>{daemon === null ? '…' : `pid ${daemon.pid} · v${daemon.version} · up ${duration(now - daemon.startedAt)}${daemon.listen === null ? '' : ` · ${daemon.listen}`}`}</dd>
          </div>
          <div data-testid="store">
            <dt>Store</dt>
            <dd title={daemon?.store.where}>{daemon === null ? '…' : `${daemon.store.kind} ${daemon.store.where}`}</dd>
          </div>
          <div data-testid="seq">
            <dt>Event</dt>
            <dd>#{count(seq)}</dd>
          </div>
          <div data-testid="principal">
            <dt>Signed in</dt>
            <dd>
              {whoami === null ? '…' : whoami.principal}
              {whoami?.readOnly === true ? (
                <span className="badge read-only" data-testid="read-only">
                  read-only
                </span>
              ) : null}
            </dd>
          </div>
        </dl>
        <ConnectionBadge />
      </div>
      {children}
      {error !== null ? (
        <p className="header-error" data-testid="error">
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      ) : null}
    </header>
  );
}
