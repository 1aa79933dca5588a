// What a CLI test asks of a finished `baton` command: exit 0 and its output,
// or a refusal that is one line on stderr with the exit status given.
import assert from 'node:assert/strict';
import type { Finished } from './procs.ts';

/** Its stdout, after exit 0 (else the assertion shows stderr). */
export function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit 0 expected; stderr: ${r.stderr}`);
  return r.stdout;
}

/** Its stdout as JSON, after exit 0. */
export function json<T = any>(r: Finished): T {
  return JSON.parse(ok(r)) as T;
}

/** One line on stderr matching `pattern`, and exit `code`. */
export function refused(r: Finished, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  // The line with or without its newline: a pattern may end in `$` or in `\n$`.
  assert.ok(pattern.test(r.stderr) || pattern.test(r.stderr.trimEnd()), `${JSON.stringify(r.stderr)} should match ${String(pattern)}`);
}
