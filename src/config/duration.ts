// Durations in baton.toml and its environment variables: a number of seconds
// (as `baton serve`'s flags take them), or a number with a unit, "30s", "7d".
import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds from seconds or "<n><unit>", rounded up; NaN for anything else. */
function toMs(value: number | string): number {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.ceil(value * 1000) : NaN;
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)?$/.exec(value.trim());
  return match === null ? NaN : Math.ceil(Number(match[1]) * UNITS[match[2] ?? 's']!);
}

/** A duration from `minMs` to `maxMs`, as whole milliseconds. */
export function duration(minMs: number, maxMs: number): z.ZodType<number, number | string> {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = toMs(value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `must be a duration: seconds, or a number with a unit ms, s, m, h, d or w ("30s", "7d"), got ${JSON.stringify(value)}`, input: value });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be from ${showDuration(minMs)} to ${showDuration(maxMs)}, got ${JSON.stringify(value)}`, input: value });
      return z.NEVER;
    }
    return ms;
  });
}

/** Milliseconds in the largest unit that holds them whole: 604800000 is "7d" (days read better than weeks), 1500 is "1500ms". */
export function showDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}
