// What every answer must be, whatever was asked: an answer (no hang, unless
// the request itself asked to wait), never a 5xx, and every 4xx a JSON
// `{"error":{"code","message"}}`. A request built to be refused (it breaks
// its schema, holds what cannot be held, or repeats a header) must get 400,
// or 413 when it is too big to read.
import type { Outcome } from './http-client.ts';
import { Violation } from './violation.ts';

/** Why `text` is not a JSON error body, or undefined when it is one. */
export function errorBodyProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `its body is not JSON: ${JSON.stringify(text.slice(0, 200))}`;
  }
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string' || error.code === '') return `its body has no error.code: ${text.slice(0, 200)}`;
  if (typeof error.message !== 'string') return `its body has no error.message: ${text.slice(0, 200)}`;
  return undefined;
}

export interface Exchange {
  /** The request as sent, for messages: method, path, headers, body (shortened). */
  sent: string;
  outcome: Outcome;
  /** How long the request asked the daemon to wait (acquire's timeoutMs, take with wait); 0 for none. */
  declaredWaitMs: number;
  /** How long the fuzzer waited for the answer. */
  patienceMs: number;
  refusals: readonly string[];
}

/** Throws a Violation naming the broken invariant; returns the status (or undefined when a declared wait outlasted our patience). Refusals are checkRefused's. */
export function checkOutcome(x: Exchange): number | undefined {
  const { outcome } = x;
  if (outcome.kind === 'timeout') {
    if (x.declaredWaitMs >= x.patienceMs) return undefined;
    throw new Violation(`no answer within ${outcome.ms} ms (the request asked for no wait longer than ${x.declaredWaitMs} ms) to ${x.sent}`);
  }
  if (outcome.kind === 'closed') throw new Violation(`the connection ended without an answer (${outcome.error}) to ${x.sent}`);
  const { status, text } = outcome;
  if (status >= 500) throw new Violation(`answered ${status} to a client's request ${x.sent}: ${text.slice(0, 400)}`);
  if (status < 200 || (status >= 300 && status < 400)) throw new Violation(`answered ${status} to ${x.sent}`);
  if (status >= 400) {
    const problem = errorBodyProblem(text);
    if (problem !== undefined) throw new Violation(`answered ${status} to ${x.sent}, but ${problem}`);
  }
  return status;
}

/** A request built to be refused got 400 (or 413): the body's checks come before anything acts on it. */
export function checkRefused(x: Exchange, status: number | undefined): void {
  if (x.refusals.length === 0 || status === 400 || status === 413) return;
  const text = x.outcome.kind === 'answer' ? x.outcome.text.slice(0, 300) : x.outcome.kind;
  throw new Violation(`answered ${status ?? 'nothing'} where it must refuse with 400 (${x.refusals.join('; ')}): ${x.sent} -> ${text}`);
}
