// Durations in baton.toml and its environment variables, checked by zod
// (duration-text.ts reads them).
import { z } from 'zod';
import { parseDurationMs, showDuration } from './duration-text.ts';

/** A duration from `minMs` to `maxMs`, as whole milliseconds. */
export function duration(minMs: number, maxMs: number): z.ZodType<number, number | string> {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDurationMs(value);
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
