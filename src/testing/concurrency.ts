// Helpers for tests that exercise code under concurrency.
import { isDeepStrictEqual } from 'node:util';

export interface ConcurrentOutcome<T> {
  result?: T;
  error?: Error;
}

/**
 * Starts every operation at once (or `delayBetween` ms apart) and waits for
 * all; each outcome holds the result or the error, in the order given.
 */
export async function runConcurrent<T>(operations: Array<() => Promise<T> | T>, options: { delayBetween?: number } = {}): Promise<Array<ConcurrentOutcome<T>>> {
  const delay = options.delayBetween ?? 0;
  const running = operations.map(async (operation, index): Promise<ConcurrentOutcome<T>> => {
    if (delay > 0 && index > 0) await new Promise((resolve) => setTimeout(resolve, delay * index));
    try {
      return { result: await operation() };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  });
  return Promise.all(running);
}

export interface LostUpdateReport<T> {
  success: boolean;
  expected: T;
  actual: T;
  errors: Error[];
}

/**
 * Applies `modifications` concurrently, each as a read-modify-write of the
 * shared value, and checks that the result equals applying them one by one
 * (so use modifications that commute, such as increments).
 *
 * Either pass `readFn` and `writeFn` (the unprotected pattern, to show a
 * race) or an `update` that does the read-modify-write itself, for example
 * `(fn) => jsonFile.update(fn)`.
 */
export async function verifyNoLostUpdates<T>(
  initial: T,
  modifications: Array<(current: T) => T>,
  readFn: () => Promise<T>,
  writeFn?: (value: T) => Promise<void>,
  options: { update?: (fn: (current: T) => T) => Promise<unknown> } = {},
): Promise<LostUpdateReport<T>> {
  const expected = modifications.reduce((value, modify) => modify(value), structuredClone(initial));
  const update =
    options.update ??
    (async (fn: (current: T) => T): Promise<void> => {
      if (writeFn === undefined) throw new Error('verifyNoLostUpdates needs writeFn or options.update');
      await writeFn(fn(await readFn()));
    });
  const outcomes = await runConcurrent(modifications.map((modify) => () => update(modify)));
  const errors = outcomes.flatMap((outcome) => (outcome.error ? [outcome.error] : []));
  const actual = await readFn();
  return { success: errors.length === 0 && isDeepStrictEqual(actual, expected), expected, actual, errors };
}
