// Argument checks shared by every operation: a bad value is an
// INVALID_ARGUMENT error that names it, raised before anything changes.
import { BatonError } from '../errors.ts';
import { MAX_ID_LENGTH, MAX_JSON_DEPTH, MAX_REASON_LENGTH, MAX_WAIT_MS } from '../limits.ts';
import { jsonProblem, pathText } from '../schema/json-value.ts';

export function invalid(message: string): BatonError {
  return new BatonError('INVALID_ARGUMENT', message);
}

export function requireString(name: string, value: unknown, { max }: { max: number }): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${name} must be a non-empty string, not ${show(value)}`);
  if (value.length > max) throw invalid(`${name} must be at most ${max} characters, not ${value.length}`);
  if (value.includes('\0')) throw invalid(`${name} must not contain a NUL character: ${show(value)}`);
  // The store writes UTF-8: a lone surrogate would become U+FFFD, and two different names one.
  if (!value.isWellFormed()) throw invalid(`${name} must be well-formed Unicode (it has a lone surrogate): ${show(value)}`);
  return value;
}

export function optionalString(name: string, value: unknown, options: { max: number }): string | undefined {
  return value === undefined || value === null ? undefined : requireString(name, value, options);
}

/** Why something was ended or cancelled: a string if given (it is stored and shown), else the default (also for '' and null). */
export function optionalReason(value: unknown, fallback: string): string {
  return value === undefined || value === null || value === '' ? fallback : requireString('reason', value, { max: MAX_REASON_LENGTH });
}

/** A session id: leases, claims and sessions name one. */
export function requireSessionId(value: unknown): string {
  return requireString('sessionId', value, { max: MAX_ID_LENGTH });
}

/** An integer in [min, max]; the message names the bound that was passed. Every number a caller sends has a max (src/limits.ts). */
export function requireInt(name: string, value: unknown, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (value < min) throw invalid(`${name} must be an integer of at least ${min}, not ${show(value)}`);
    if (value > max) throw invalid(`${name} must be an integer of at most ${max}, not ${show(value)}`);
    return value;
  }
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  throw invalid(`${name} must be an integer ${range}, not ${show(value)}`);
}

export function optionalInt(name: string, value: unknown, fallback: number, range?: { min?: number; max?: number }): number {
  return value === undefined ? fallback : requireInt(name, value, range);
}

export function requireNumber(name: string, value: unknown, { min = 0, exclusiveMin = false, max = Infinity } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (exclusiveMin && value === min) || value > max) {
    const upTo = max === Infinity ? '' : ` and <= ${max}`;
    throw invalid(`${name} must be a finite number ${exclusiveMin ? '>' : '>='} ${min}${upTo}, not ${show(value)}`);
  }
  return value;
}

/** Milliseconds for a wait: Infinity allowed (waits count it in pieces a timer can hold), else at most MAX_WAIT_MS. */
export function requireTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return Infinity;
  return requireInt(name, value, { min: 0, max: MAX_WAIT_MS });
}

export function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not ${show(value)}`);
  }
  return value as T;
}

/** A caller's JSON value (a payload, a result, an event's data, labels): nested at most MAX_JSON_DEPTH deep, no "__proto__" key, well-formed strings. */
export function checkJson(name: string, value: unknown): void {
  const found = jsonProblem(value, MAX_JSON_DEPTH);
  if (found !== null) throw invalid(`${pathText(name, found.path)} ${found.problem}`);
}

/** A JSON-serializable value; stored as its JSON text. */
export function toJson(name: string, value: unknown): string | null {
  if (value === undefined) return null;
  checkJson(name, value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw invalid(`${name} must be JSON-serializable: ${(error as Error).message}`);
  }
  if (text === undefined) throw invalid(`${name} must be JSON-serializable, not ${show(value)}`);
  return text;
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
