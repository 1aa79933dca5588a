// What every CLI command shares: argument parsing, output, exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BatonError, type ErrorCode } from '../errors.ts';

/** Documented exit codes (docs/cli.md). `baton run` otherwise exits with its command's code. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `lock remove`: a live holder was left in place (use --force). */
  kept: 3,
  /**
   * Try again later (EX_TEMPFAIL): a lock or lease was not had within the
   * timeout, a token budget would be exceeded, or a rate limit did not grant.
   * `run` takes --conflict-exit-code to change it.
   */
  notAcquired: 75,
} as const;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export class UsageError extends BatonError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: joinNegatives(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]}\nusage: ${usage}`);
  }
}

/** Exactly `names.length` positionals, or a usage error naming what is missing or extra. */
export function positionalArgs(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing <${names[positionals.length]}>\nusage: ${usage}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}\nusage: ${usage}`);
  return positionals;
}

/** A required option, or a usage error naming it. */
export function required<T>(name: string, value: T | undefined, usage: string): T {
  if (value === undefined) throw new UsageError(`${name} is required\nusage: ${usage}`);
  return value;
}

/**
 * parseArgs reads `--ttl -5` as two options; join a negative number to the
 * string option before it (`--ttl=-5`) so our own check can name the value.
 */
function joinNegatives(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    const next = argv[i + 1];
    if (options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return ExitCode.usage;
    case 'LOCK_TIMEOUT':
    case 'LOCKED':
    case 'BUDGET_EXCEEDED':
    case 'RATE_LIMITED':
      return ExitCode.notAcquired;
    // STALE_TOKEN, LEASE_EXPIRED, CONFLICT, NOT_FOUND, SESSION_ENDED, IDEMPOTENCY_MISMATCH and the rest: a plain failure.
    default:
      return ExitCode.failure;
  }
}

/** Prints one readable line (or one JSON object with --json) and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  const e =
    error instanceof BatonError ? error : new BatonError('IO_ERROR', error instanceof Error ? error.message : String(error), { cause: error });
  // Usage errors carry the usage on a second line; one line is printed, pointing at the help.
  const [first = '', ...rest] = e.message.split('\n');
  const command = /^usage: (baton(?: [a-z][a-z-]*)+)/.exec(rest[0] ?? '')?.[1];
  const message = command === undefined ? e.message : `${first}; see '${command} --help'`;
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: { code: e.code, message } })}\n`);
  } else {
    process.stderr.write(`baton: ${message.replaceAll('\n', ' ')} [${e.code}]\n`);
  }
  return exitCodeFor(e.code);
}

/** Seconds to milliseconds; `positive` refuses 0 as well. */
export function seconds(name: string, value: string | undefined, positive = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n) || n < 0 || (positive && n === 0)) {
    throw new UsageError(`${name} must be a number of seconds ${positive ? '> 0' : '>= 0'}, got ${JSON.stringify(value)}`);
  }
  return n * 1000;
}

/** Seconds to whole milliseconds (rounded up, so a tiny positive value stays positive); Infinity is refused. */
export function millis(name: string, value: string | undefined, positive = false): number | undefined {
  const ms = seconds(name, value, positive);
  if (ms === undefined) return undefined;
  if (!Number.isFinite(ms)) throw new UsageError(`${name} must be a finite number of seconds, got ${JSON.stringify(value)}`);
  return Math.ceil(ms);
}

/** A whole number option, e.g. --priority or --token. */
export function integer(name: string, value: string | undefined, { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = min === Number.MIN_SAFE_INTEGER ? '' : max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`;
    throw new UsageError(`${name} must be a whole number${range}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A number option that may have a fraction, e.g. --rate. */
export function decimal(name: string, value: string | undefined, { positive = false } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (positive && n === 0)) {
    throw new UsageError(`${name} must be a number ${positive ? '> 0' : '>= 0'}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A JSON option, e.g. --payload '{"a":1}'. */
export function jsonOption(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new UsageError(`${name} must be JSON, got ${JSON.stringify(value)} (${(error as Error).message})`);
  }
}
