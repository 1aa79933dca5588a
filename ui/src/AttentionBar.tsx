// The attention bar: what needs a person now, most urgent first, each a link
// to the row that shows it. Recomputed every second (countdowns move) from the
// live snapshot; a handful shown, the rest behind "show all".
import { useMemo, useState, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { attention } from './attention.ts';
import { useNow } from './clock.ts';
import { leaseInfo, useLeaseInfo } from './lease-info.ts';
import { recentThrottles } from './trackers.ts';
import { followLink, searchWith } from './url-state.ts';

const SHOWN = 5;
/** Waiters are looked up for this many of the oldest holds (long waits pile up behind long holds). */
const OLDEST_SAMPLED = 20;

export function AttentionBar(): ReactNode {
  const leases = useProtocol((s) => s.leases);
  const sessions = useProtocol((s) => s.sessions);
  const tasks = useProtocol((s) => s.tasks);
  const budgets = useProtocol((s) => s.budgets);
  const rateLimits = useProtocol((s) => s.rateLimits);
  const now = useNow();
  const [expanded, setExpanded] = useState(false);

  const oldest = useMemo(() => [...new Set([...leases].sort((a, b) => a.acquiredAt - b.acquiredAt).slice(0, OLDEST_SAMPLED).map((l) => l.key))], [leases]);
  const infoVersion = useLeaseInfo(oldest);

  const items = useMemo(
    () => attention({ leases, sessions, tasks, budgets, rateLimits, leaseInfo, throttled: recentThrottles(now - 60_000), now }),
    // infoVersion: leaseInfo is a shared Map that changes in place.
    [leases, sessions, tasks, budgets, rateLimits, now, infoVersion],
  );
  const shown = expanded ? items : items.slice(0, SHOWN);

  return (
    <section className={`attention ${items.length === 0 ? 'calm' : ''}`} aria-label="Needs attention" data-testid="attention" data-count={items.length}>
      <h2 className="attention-title">{items.length === 0 ? 'Nothing needs attention' : `Needs attention (${items.length})`}</h2>
      {items.length > 0 ? (
        <ul className="attention-list">
          {shown.map((item) => (
            <li key={item.id} className={`attention-item ${item.severity}`} data-testid="attention-item" data-kind={item.kind}>
              <span className="severity">{item.severity === 'critical' ? '⚠ critical' : '! warning'}</span>{' '}
              <a href={searchWith(item.link, true)} onClick={(e) => followLink(e, item.link)}>
                {item.text}
              </a>
            </li>
          ))}
        </ul>
      ) : null}
      {items.length > SHOWN ? (
        <button type="button" className="link-button" aria-expanded={expanded} onClick={() => setExpanded(!expanded)} data-testid="attention-more">
          {expanded ? 'Show fewer' : `Show all ${items.length}`}
        </button>
      ) : null}
    </section>
  );
}
