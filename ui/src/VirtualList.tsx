// A grid of fixed-height rows that renders only the rows in view (plus a few
// either side), so 10,000 tasks or 5,000 events cost the DOM about forty rows.
// Fixed heights make the arithmetic exact: row i sits at i * rowHeight, no
// measuring. The grid is one focusable element (aria-activedescendant names
// the selected row); the page's keyboard handler moves the selection and this
// component scrolls it into view.
import { memo, useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface Column<T> {
  id: string;
  title: string;
  /** A CSS grid track: '8rem', 'minmax(10rem, 2fr)'. */
  width: string;
  render(row: T): ReactNode;
  className?: string;
}

export interface VirtualListProps<T> {
  label: string;
  testid: string;
  rowTestid: string;
  rows: readonly T[];
  rowKey(row: T): string;
  columns: readonly Column<T>[];
  selected: string | null;
  onSelect(key: string): void;
  /** Enter or a double click: open the row's details. */
  onOpen?(key: string): void;
  rowClass?(row: T): string | undefined;
  /** Keep the view pinned to the newest (last) row while the user is at the bottom: a live tail. */
  follow?: boolean;
  /** The keys of the rows on screen, for callers that fetch more about them. */
  onVisible?(keys: string[]): void;
  empty?: ReactNode;
  rowHeight?: number;
}

const OVERSCAN = 8;

/**
 * A row's cells, memoised on the row and the columns: when rows only move (a
 * live tail drops its oldest event, so every index shifts by one each frame)
 * React updates each row's position and leaves its cells alone.
 */
const Cells = memo(function Cells<T>({ row, columns }: { row: T; columns: readonly Column<T>[] }): ReactNode {
  return columns.map((c) => (
    <div role="gridcell" key={c.id} className={c.className}>
      {c.render(row)}
    </div>
  ));
}) as <T>(props: { row: T; columns: readonly Column<T>[] }) => ReactNode;

export function VirtualList<T>(props: VirtualListProps<T>): ReactNode {
  const { rows, rowKey, columns, selected, follow = false, rowHeight = 34 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const idPrefix = useId();
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el === null) return;
    setHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (el === null) return;
    setScrollTop(el.scrollTop);
    atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
  }, [rowHeight]);

  // A live tail stays at the bottom as rows arrive, unless the user scrolled up to read.
  useLayoutEffect(() => {
    const el = ref.current;
    if (follow && el !== null && atBottom.current && selected === null) el.scrollTop = el.scrollHeight;
  }, [follow, rows.length, selected]);

  const selectedIndex = selected === null ? -1 : rows.findIndex((row) => rowKey(row) === selected);

  // Scroll the selection into view when it changes (not when rows change: that would fight the user's scrolling).
  useLayoutEffect(() => {
    const el = ref.current;
    if (el === null || selectedIndex < 0) return;
    const top = selectedIndex * rowHeight;
    const visible = el.clientHeight - rowHeight; // less the sticky header
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + visible) el.scrollTop = top + rowHeight - visible;
  }, [selected]); // not selectedIndex: only a new selection scrolls

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const shown = rows.slice(first, last);
  const template = columns.map((c) => c.width).join(' ');

  const { onVisible } = props;
  const visibleKeys = shown.map(rowKey).join('\n');
  useEffect(() => {
    if (onVisible !== undefined) onVisible(visibleKeys === '' ? [] : visibleKeys.split('\n'));
  }, [onVisible, visibleKeys]);

  const activeId = selectedIndex >= first && selectedIndex < last ? `${idPrefix}-r${selectedIndex}` : undefined;
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === 'Enter' && selected !== null && event.target === event.currentTarget && !event.metaKey && !event.ctrlKey) {
      event.preventDefault();
      props.onOpen?.(selected);
    }
  };

  return (
    <div
      ref={ref}
      className="vlist"
      role="grid"
      aria-label={props.label}
      aria-rowcount={Math.max(rows.length, 1) + 1}
      aria-activedescendant={activeId}
      tabIndex={0}
      data-testid={props.testid}
      data-count={rows.length}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="vlist-head">
        <div role="row" aria-rowindex={1} className="vlist-row" style={{ gridTemplateColumns: template, height: rowHeight }}>
          {columns.map((c) => (
            <div role="columnheader" key={c.id} className={c.className}>
              {c.title}
            </div>
          ))}
        </div>
      </div>
      <div role="rowgroup" className="vlist-body" style={{ height: rows.length * rowHeight }}>
        {shown.map((row, i) => {
          const index = first + i;
          const key = rowKey(row);
          const isSelected = key === selected;
          const extra = props.rowClass?.(row);
          return (
            <div
              role="row"
              key={key}
              id={`${idPrefix}-r${index}`}
              aria-rowindex={index + 2}
              aria-selected={isSelected}
              data-testid={props.rowTestid}
              data-key={key}
              className={`vlist-row${isSelected ? ' selected' : ''}${extra ? ` ${extra}` : ''}`}
              style={{ gridTemplateColumns: template, height: rowHeight, transform: `translateY(${index * rowHeight}px)` }}
              onClick={() => props.onSelect(key)}
              onDoubleClick={() => props.onOpen?.(key)}
            >
              <Cells row={row} columns={columns} />
            </div>
          );
        })}
        {rows.length === 0 ? (
          <div role="row" aria-rowindex={2} className="vlist-row vlist-empty" data-testid={`${props.testid}-empty`}>
            <div role="gridcell">{props.empty ?? 'Nothing to show.'}</div>
          </div>
        ) : null}
      </div>
    </div>
  );
}
