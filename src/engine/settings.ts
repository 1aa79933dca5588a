// The engine's own settings (sweeping, event retention, retry backoff),
// checked when it is made: a bad one is refused before any store is opened.
import type { EngineOptions } from './engine-core.ts';
import type { Retention } from './events.ts';
import type { RetryPolicy } from './task-outcomes.ts';
import { MAX_TTL_MS, MAX_WAIT_MS } from '../limits.ts';
import { invalid, optionalInt, requireNumber, show } from './validate.ts';

export interface EngineSettings {
  sweepIntervalMs: number;
  retention: Retention;
  retry: RetryPolicy;
}

/** The engine's settings from its options, checked: a bad one is refused before any store is opened. */
export function engineSettings(options: EngineOptions = {}): EngineSettings {
  if (typeof options !== 'object' || options === null) throw invalid('engine options must be an object');
  const { retention = {}, retry = {} } = options;
  if (typeof retention !== 'object' || retention === null) throw invalid(`retention must be an object { maxAgeMs?, maxCount? }, not ${show(retention)}`);
  if (typeof retry !== 'object' || retry === null) throw invalid(`retry must be an object { baseMs?, maxMs? }, not ${show(retry)}`);
  return {
    sweepIntervalMs: optionalInt('sweepIntervalMs', options.sweepIntervalMs, 500, { min: 10, max: MAX_WAIT_MS }),
    retention: {
      // Infinity: never prune by age.
      maxAgeMs: retention.maxAgeMs === undefined ? 7 * 24 * 3600_000 : retention.maxAgeMs === Infinity ? Infinity : requireNumber('retention.maxAgeMs', retention.maxAgeMs, { exclusiveMin: true }),
      // At least 1: the newest event is what the next seq counts on.
      maxCount: optionalInt('retention.maxCount', retention.maxCount, 100_000, { min: 1 }),
    },
    retry: {
      // A retry is run_at = now + the backoff: at most a year, as a caller's retryInMs.
      baseMs: optionalInt('retry.baseMs', retry.baseMs, 1_000, { max: MAX_TTL_MS }),
      maxMs: optionalInt('retry.maxMs', retry.maxMs, 3600_000, { max: MAX_TTL_MS }),
    },
  };
}
