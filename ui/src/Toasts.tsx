// Where actions report: each confirmed action counts down its undo window
// (with its own Undo button), then says how the daemon answered. A polite
// live region, so a screen reader hears the outcome without losing its place.
import type { ReactNode } from 'react';
import { useActions } from './actions.tsx';
import { useNow } from './clock.ts';
import { useSingleKeyShortcuts } from './settings.ts';

export function Toasts(): ReactNode {
  const { pending, outcomes, undo, dismiss } = useActions();
  const now = useNow();
  const singleKeys = useSingleKeyShortcuts();
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {pending.map((p, i) => (
        <div key={p.id} className="toast pending" data-testid="pending-action">
          <span>
            {p.request.title}: sending in {Math.max(0, Math.ceil((p.sendAt - now) / 1000))} s
          </span>
          {/* Z undoes the newest; each pending action also has its own button. */}
          <button
            type="button"
            onClick={() => undo(p.id)}
            data-testid="toast-undo"
            aria-label={`Undo: ${p.request.title}`}
            title={i === pending.length - 1 && singleKeys ? 'Undo (Z): cancel before it is sent' : 'Undo: cancel before it is sent'}
            aria-keyshortcuts={i === pending.length - 1 && singleKeys ? 'Z' : undefined}
          >
            Undo
          </button>
        </div>
      ))}
      {outcomes.map((o) => (
        <div key={o.id} className={`toast ${o.state}`} data-testid="action-result" data-outcome={o.state}>
          <span>
            {o.title}: {o.text}
          </span>
          {o.state !== 'sending' ? (
            <button type="button" className="icon-button" onClick={() => dismiss(o.id)} aria-label={`Dismiss: ${o.title}`}>
              ×
            </button>
          ) : null}
        </div>
      ))}
    </div>
  );
}
