// Output of the engine's commands: JSON (the Coordinator's return value) or
// short human text: `key: value` lines and aligned tables.
import { paint, visibleLength } from './style.ts';

/** Prints `value` as JSON (`null` for calls that return nothing). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
}

/** `key: value` lines, values aligned. Undefined values are left out. */
export function fields(entries: Array<[string, string | number | null | undefined]>): string {
  const shown = entries.filter((e): e is [string, string | number | null] => e[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v === null ? '-' : String(v)}\n`).join('');
}

/**
 * An aligned table with a header row (bold on a terminal); the last column is
 * not padded. Cells may be coloured already (`state(...)`): widths count what shows.
 */
export function table(header: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c)))).join('  ').trimEnd() + '\n';
  const [head, ...body] = cells.map(line);
  return paint('stdout', head!.trimEnd(), 'bold') + '\n' + body.join('');
}

/** A duration as a short human string: 850ms, 12s, 4m10s, 3h5m, 2d4h. */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

/** How long ago a time was: `12s ago` (or `in 5s` for the future). */
export function ago(at: number, now = Date.now()): string {
  return at > now ? `in ${duration(at - now)}` : `${duration(now - at)} ago`;
}

/** An ISO time with its distance from now: `2025-01-01T10:00:00.000Z (in 59s)`. */
export function when(at: number | null, now = Date.now()): string | null {
  return at === null ? null : `${new Date(at).toISOString()} (${ago(at, now)})`;
}

/** A JSON value in one line, for payloads and results in human output. */
export function compact(value: unknown): string {
  return value === undefined ? '-' : JSON.stringify(value);
}

/** Indents every non-empty line by two spaces. */
export function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
