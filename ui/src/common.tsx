// Pieces every view uses: its state from the URL (selected row, details open,
// filter text), the filter field, and the details panel beside the list.
import { useCallback, type ReactNode } from 'react';
import { setParams, useParams } from './url-state.ts';

export interface ViewState {
  sel: string | null;
  details: boolean;
  q: string;
  params: Readonly<Record<string, string>>;
  select(key: string): void;
  open(key: string): void;
}

export function useViewState(): ViewState {
  const params = useParams();
  const select = useCallback((key: string) => setParams({ sel: key }), []);
  const open = useCallback((key: string) => setParams({ sel: key, details: 1 }), []);
  return { sel: params.sel ?? null, details: params.details === '1', q: params.q ?? '', params, select, open };
}

export function FilterField({ label, placeholder, value, param = 'q' }: { label: string; placeholder: string; value: string; param?: string }): ReactNode {
  return (
    <label className="field inline">
      <span>{label}</span>
      <input type="search" value={value} placeholder={placeholder} onChange={(e) => setParams({ [param]: e.target.value })} data-testid="filter" spellCheck={false} autoComplete="off" />
    </label>
  );
}

export function DetailsPanel({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <aside className="details" aria-label="Details" data-testid="details">
      <div className="details-head">
        <h3>{title}</h3>
        <button type="button" className="icon-button" onClick={() => setParams({ details: null })} aria-label="Close details" title="Close details (Esc or D)" data-testid="details-close">
          ×
        </button>
      </div>
      {/* Focusable, so a keyboard can scroll it when its content is taller than the panel and holds no link or button. */}
      <div className="details-body" tabIndex={0} role="region" aria-label={title}>
        {children}
      </div>
    </aside>
  );
}

/** A definition list of label → value; null values are left out. */
export function Facts({ rows }: { rows: Array<[string, ReactNode]> }): ReactNode {
  return (
    <dl className="kv">
      {rows
        .filter(([, v]) => v !== null && v !== undefined && v !== '')
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

export function Json({ value }: { value: unknown }): ReactNode {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A fraction as a bar with its numbers in text (the bar alone says nothing to a screen reader). */
export function Meter({ value, max, label, warn = false }: { value: number; max: number; label: string; warn?: boolean }): ReactNode {
  const pct = max <= 0 ? 100 : Math.min(100, Math.max(0, (value / max) * 100));
  return (
    <span className="meter-wrap">
      <span className={`meter ${warn ? 'warn' : ''}`} aria-hidden="true">
        <span className="meter-fill" style={{ width: `${pct}%` }} />
      </span>
      <span className="meter-text">{label}</span>
    </span>
  );
}
