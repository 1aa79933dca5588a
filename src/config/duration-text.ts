// Durations as people write them, in baton.toml and in CLI options: a number
// of seconds (as `baton serve`'s flags and --ttl take them), or a number with
// a unit, "30s", "7d". No zod here: the CLI parses its options without it.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Whole milliseconds from seconds or "<n><unit>" (ms, s, m, h, d, w), rounded up; NaN for anything else. */
export function parseDurationMs(value: number | string): number {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.ceil(value * 1000) : NaN;
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)?$/.exec(value.trim());
  return match === null ? NaN : Math.ceil(Number(match[1]) * UNITS[match[2] ?? 's']!);
}

/** Milliseconds in the largest unit that holds them whole: 604800000 is "7d" (days read better than weeks), 1500 is "1500ms". */
export function showDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}
