// What every CLI command shares: argument parsing, output, exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDurationMs } from '../config/duration-text.ts';
import { BatonError, type ErrorCode } from '../errors.ts';
import { paint } from './style.ts';
import { alternatives, closest } from './suggest.ts';
import { inUserWords } from './wire-words.ts';

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

/** What a usage error may add: the names the user probably meant, and the help to read instead. */
export interface UsageHints {
  didYouMean?: string[];
  /** The command whose --help to point at ('baton task list'); else read from a `usage:` second line. */
  help?: string;
}

export class UsageError extends BatonError {
  constructor(message: string, hints: UsageHints = {}) {
    super('INVALID_ARGUMENT', message, { details: { ...hints } });
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  const args = joinNegatives(argv, options);
  const { tokens } = parseArgs({ args, options: all, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) checkOption(token, args, all, usage);
  try {
    return parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch {
    // checkOption refuses what parseArgs would, in our words; this is a net under it, never Node's text.
    throw new UsageError(`cannot read the options ${JSON.stringify(argv.join(' '))}\nusage: ${usage}`);
  }
}

/** An option parseArgs would refuse, refused in our words: unknown (with the nearest names), a value missing or not taken. */
function checkOption(token: Token, args: string[], options: Options, usage: string): void {
  if (token.kind !== 'option') return;
  const spec = options[token.name];
  const raw = args[token.index] ?? token.rawName;
  if (spec === undefined) {
    // `-json` is read as -j -s -o -n: the whole word is what was typed.
    const typed = raw.startsWith('--') ? raw.slice(2).split('=')[0]! : raw.slice(1);
    const shown = raw.startsWith('--') ? `--${typed}` : raw.length > 2 ? raw : token.rawName;
    const near = Object.hasOwn(options, typed) ? [typed] : typed.length > 1 ? closest(typed, Object.keys(options)) : [];
    throw new UsageError(`unknown option ${JSON.stringify(shown)}\nusage: ${usage}`, near.length === 0 ? {} : { didYouMean: near.map((n) => `--${n}`) });
  }
  const name = token.rawName;
  if (spec.type === 'boolean' && token.inlineValue) throw new UsageError(`${name} takes no value, got ${JSON.stringify(token.value ?? '')}\nusage: ${usage}`);
  if (spec.type === 'string') {
    if (token.value === undefined) throw new UsageError(`${name} needs a value\nusage: ${usage}`);
    if (!token.inlineValue && token.value.length > 1 && token.value.startsWith('-')) {
      throw new UsageError(`${name} needs a value, got the option ${JSON.stringify(token.value)} (write ${name}=${token.value} if that is the value)\nusage: ${usage}`);
    }
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
    case 'QUOTA_EXCEEDED':
      return ExitCode.notAcquired;
    // STALE_TOKEN, LEASE_EXPIRED, CONFLICT, NOT_FOUND, SESSION_ENDED, IDEMPOTENCY_MISMATCH and the rest: a plain failure.
    default:
      return ExitCode.failure;
  }
}

/** One error line for stderr: `baton: <message> [<CODE>]`, the prefix red and the code dim on a terminal. */
export function errorLine(message: string, code: ErrorCode): string {
  return `${paint('stderr', 'baton:', 'bold', 'red')} ${message} ${paint('stderr', `[${code}]`, 'dim')}\n`;
}

/** One warning line for stderr: `baton: warning: <message>`. */
export function warningLine(message: string): string {
  return `${paint('stderr', 'baton: warning:', 'bold', 'yellow')} ${message}\n`;
}

/**
 * An error as the user reads it, on one line: a usage error ends with its
 * suggestion (`; did you mean "list"?`) or else the help to read, and a
 * refusal of the request's check names the flag or argument, not the wire's field.
 */
export function userMessage(e: BatonError): string {
  const [first = '', ...rest] = e.message.split('\n');
  const hints: UsageHints = e instanceof UsageError ? e.details : {};
  if (hints.didYouMean !== undefined && hints.didYouMean.length > 0) return `${first}; did you mean ${alternatives(hints.didYouMean)}?`;
  const help = hints.help ?? /^usage: (baton(?: [a-z][a-z-]*)+)/.exec(rest[0] ?? '')?.[1];
  if (help !== undefined) return `${first}; see '${help} --help'`;
  const text = e.message.replaceAll('\n', ' ');
  return e.code === 'INVALID_ARGUMENT' ? inUserWords(text) : text;
}

/** Prints one readable line (or one JSON object with --json) and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  const e =
    error instanceof BatonError ? error : new BatonError('IO_ERROR', error instanceof Error ? error.message : String(error), { cause: error });
  const message = userMessage(e);
  process.stderr.write(json ? `${JSON.stringify({ error: { code: e.code, message } })}\n` : errorLine(message, e.code));
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

/** A century: a longer --expires or --overlap is a typo, and the time it names must stay a date. */
const MAX_DURATION_MS = 36_500 * 86_400_000;

/**
 * A duration option, e.g. --expires or --overlap: seconds as --ttl takes them
 * (`3600`), or a number with a unit: ms, s, m, h, d, w (`90d`, `1.5h`). Whole
 * milliseconds, rounded up; `positive` refuses 0 as well.
 */
export function durationMs(name: string, value: string | undefined, positive = false): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDurationMs(value);
  if (Number.isNaN(ms) || (positive && ms === 0)) {
    throw new UsageError(`${name} must be a duration ${positive ? '> 0' : '>= 0'}: seconds, or a number with a unit ms, s, m, h, d or w (90d, 12h), got ${JSON.stringify(value)}`);
  }
  if (ms > MAX_DURATION_MS) throw new UsageError(`${name} must be at most 36500d (a century), got ${JSON.stringify(value)}`);
  return ms;
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
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  let parsed: unknown;
  try {
    // A number past a double's range parses as Infinity, which JSON would then carry as null: refused, not changed.
    parsed = JSON.parse(value, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('a number is too large for JSON to carry');
      return v;
    });
  } catch (error) {
    throw new UsageError(`${name} must be JSON, got ${shown} (${(error as Error).message})`);
  }
  return parsed;
}
