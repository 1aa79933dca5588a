// Tasks completed and failed per second over the last minute, from the event
// stream (each event counted once, in the second the store stamped it). Inline
// SVG: no chart library, and colours come from the stylesheet (the CSP allows
// no inline <style>). The numbers are also given in text.
import { useRef, type ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { useNow } from './clock.ts';
import { count } from './format.ts';
import { buckets } from './trackers.ts';

const SECONDS = 60;
const W = 600;
const H = 120;
const PAD = 18;

export function ThroughputChart(): ReactNode {
  const ticking = useNow();
  // Paused, the chart holds still with the rest of the page (the counting goes on underneath).
  const paused = useProtocol((s) => s.paused);
  const frozenAt = useRef<number | null>(null);
  if (!paused) frozenAt.current = null;
  else frozenAt.current ??= ticking;
  const now = frozenAt.current ?? ticking;
  const end = Math.floor(now / 1000);
  const series: Array<{ completed: number; failed: number }> = [];
  for (let s = end - SECONDS + 1; s <= end; s++) series.push(buckets.get(s) ?? { completed: 0, failed: 0 });
  const completed = series.reduce((n, b) => n + b.completed, 0);
  const failed = series.reduce((n, b) => n + b.failed, 0);
  const peak = Math.max(1, ...series.map((b) => b.completed + b.failed));
  const bar = W / SECONDS;
  const y = (v: number): number => ((H - PAD) * v) / peak;
  const summary = `Last ${SECONDS} s: ${count(completed)} completed (${(completed / SECONDS).toFixed(1)}/s), ${count(failed)} failed; peak ${count(peak)}/s`;

  return (
    <figure className="chart" data-testid="throughput" data-completed={completed} data-failed={failed}>
      <figcaption>
        <strong>Throughput</strong> <span className="muted">{summary}</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        <line x1={0} x2={W} y1={H - 0.5} y2={H - 0.5} className="axis" />
        <line x1={0} x2={W} y1={PAD} y2={PAD} className="grid" />
        {series.map((b, i) => {
          const hc = y(b.completed);
          const hf = y(b.failed);
          return (
            <g key={i}>
              {b.completed > 0 ? <rect x={i * bar + 1} width={bar - 2} y={H - hc} height={hc} className="done" /> : null}
              {b.failed > 0 ? <rect x={i * bar + 1} width={bar - 2} y={H - hc - hf} height={hf} className="failed" /> : null}
            </g>
          );
        })}
      </svg>
      <div className="legend" aria-hidden="true">
        <span className="key done" /> completed <span className="key failed" /> failed · dashed line {count(peak)}/s · {SECONDS} s, newest at the right
      </div>
    </figure>
  );
}
