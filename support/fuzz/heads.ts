// Request heads no HTTP client would send, written as bytes on a raw socket:
// a bad or doubled Content-Length, Transfer-Encoding beside Content-Length,
// control characters in a name, a value or the target, a bad version, no
// Host or two, an oversized header. Each must be refused with a JSON 4xx
// (431 for a head too large, 414 or 431 for a target too long), not the bare
// line Node's parser answers with.
import * as fc from 'fast-check';
import { errorBodyProblem } from './invariants.ts';
import { parseRaw, type RawOutcome } from './http-client.ts';
import { Violation } from './violation.ts';

/** refuse: a 4xx; either: a 2xx is fine too (a head some parsers accept), but an error must be JSON. */
type Expect = 'refuse' | 'either' | 'tooLarge' | 'targetTooLong';

export class RawHead {
  readonly label: string;
  readonly bytes: Buffer;
  readonly expect: Expect;
  constructor(label: string, bytes: Buffer, expect: Expect) {
    this.label = label;
    this.bytes = bytes;
    this.expect = expect;
  }
  [fc.toStringMethod](): string {
    const text = this.bytes.toString('latin1');
    const shown = text.length > 300 ? `${text.slice(0, 200)}…(${text.length} bytes)` : text;
    return `${this.label}: ${JSON.stringify(shown)}`;
  }
}

const routes = fc.constantFrom(['GET', '/v1/health', ''], ['GET', '/v1/status', ''], ['POST', '/v1/sweep', '{}'], ['POST', '/v1/listLeases', '{}']);

const head = (lines: string[], body: string): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
const start = (method: string, path: string): string => `${method} ${path} HTTP/1.1`;
const control = fc.constantFrom('\x00', '\x01', '\x0b', '\x1b', '\x1f', '\x7f');

/** One malformation of an otherwise ordinary request. */
export const rawHead: fc.Arbitrary<RawHead> = fc.oneof(
  fc.tuple(routes, fc.constantFrom('abc', '-1', '1e3', '0x10', '+2', '2, 3', '99999999999999999999999', '')).map(([[m, p, b], cl]) => new RawHead('a bad Content-Length', head([start(m, p), 'Host: baton', `Content-Length: ${cl}`], b), 'refuse')),
  fc.tuple(routes, fc.nat({ max: 5 })).map(([[m, p, b], extra]) => new RawHead('two different Content-Length headers', head([start(m, p), 'Host: baton', `Content-Length: ${b.length}`, `Content-Length: ${b.length + extra + 1}`], b), 'refuse')),
  routes.map(([m, p, b]) => new RawHead('Transfer-Encoding with Content-Length', head([start(m, p), 'Host: baton', 'Transfer-Encoding: chunked', `Content-Length: ${b.length}`], `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`), 'refuse')),
  fc.tuple(routes, fc.constantFrom('gzip', 'chunked, gzip', 'identity', 'chunked, chunked')).map(([[m, p, b], te]) => new RawHead('a Transfer-Encoding it cannot read', head([start(m, p), 'Host: baton', `Transfer-Encoding: ${te}`], b), 'refuse')),
  fc.tuple(routes, fc.constantFrom('zz', '-1', '1 ; x=\x00', 'ffffffffffffffffff')).map(([[m, p], size]) => new RawHead('a bad chunk size', head([start(m === 'GET' ? 'POST' : m, p), 'Host: baton', 'Transfer-Encoding: chunked'], `${size}\r\n{}\r\n0\r\n\r\n`), 'refuse')),
  fc.tuple(routes, control).map(([[m, p, b], c]) => new RawHead('a control character in a header value', head([start(m, p), 'Host: baton', `X-Note: a${c}b`, `Content-Length: ${b.length}`], b), 'refuse')),
  fc.tuple(routes, fc.constantFrom('X\x01Note', 'X Note', 'X-Note ', '', '(x)')).map(([[m, p, b], name]) => new RawHead('a malformed header name', head([start(m, p), 'Host: baton', `${name}: a`, `Content-Length: ${b.length}`], b), 'refuse')),
  fc.tuple(routes, control).map(([[m, p, b], c]) => new RawHead('a control character in the target', head([start(m, `${p}${c}x`), 'Host: baton', `Content-Length: ${b.length}`], b), 'refuse')),
  fc.tuple(routes, fc.constantFrom('HTTP/9.9', 'HTTP/1.x', 'HTTPS/1.1', 'HTTP/1.1 extra')).map(([[m, p, b], v]) => new RawHead('a bad HTTP version', head([`${m} ${p} ${v}`, 'Host: baton', `Content-Length: ${b.length}`], b), 'refuse')),
  fc.constantFrom('GARBAGE', '\x00\x01\x02', 'GET', ' GET /v1/health HTTP/1.1', 'G\x7fT /v1/health HTTP/1.1').map((line) => new RawHead('a malformed request line', head([line, 'Host: baton'], ''), 'refuse')),
  routes.map(([m, p, b]) => new RawHead('an obsolete folded header', head([start(m, p), 'Host: baton', 'X-Note: a', ' folded', `Content-Length: ${b.length}`], b), 'refuse')),
  routes.map(([m, p, b]) => new RawHead('no Host header', head([start(m, p), `Content-Length: ${b.length}`], b), 'refuse')),
  routes.map(([m, p, b]) => new RawHead('two Host headers', head([start(m, p), 'Host: baton', 'Host: other', `Content-Length: ${b.length}`], b), 'refuse')),
  routes.map(([m, p, b]) => new RawHead('bare LF line ends', Buffer.from(`${start(m, p)}\nHost: baton\nContent-Length: ${b.length}\n\n${b}`, 'latin1'), 'either')),
  fc.tuple(routes, fc.integer({ min: 17, max: 64 })).map(([[m, p, b], kib]) => new RawHead('an oversized header', head([start(m, p), 'Host: baton', `X-Big: ${'a'.repeat(kib * 1024)}`, `Content-Length: ${b.length}`], b), 'tooLarge')),
  fc.tuple(routes, fc.integer({ min: 1100, max: 3000 })).map(([[m, p, b], n]) => new RawHead('too many header lines', head([start(m, p), 'Host: baton', ...Array.from({ length: n }, (_, i) => `X-H${i}: ${'v'.repeat(8)}`), `Content-Length: ${b.length}`], b), 'tooLarge')),
  fc.tuple(routes, fc.integer({ min: 17, max: 64 })).map(([[m, p, b], kib]) => new RawHead('an oversized target', head([start(m, `${p}?q=${'a'.repeat(kib * 1024)}`), 'Host: baton', `Content-Length: ${b.length}`], b), 'targetTooLong')),
);

/** Throws a Violation unless the daemon answered the malformed head as it must. */
export function checkRawAnswer(h: RawHead, outcome: RawOutcome): void {
  const answer = parseRaw(outcome.bytes);
  if (answer === undefined) {
    throw new Violation(`${h.label}: ${outcome.closed ? 'the connection closed' : `nothing within ${outcome.ms} ms`} without an answer${outcome.bytes.length > 0 ? ` (got ${JSON.stringify(outcome.bytes.toString('latin1').slice(0, 200))})` : ''}`);
  }
  const { status, body } = answer;
  const shown = `${status}${body === '' ? ' with no body' : `: ${body.slice(0, 200)}`}`;
  if (status >= 500 || Number.isNaN(status)) throw new Violation(`${h.label}: answered ${shown}`);
  if (status < 400) {
    if (h.expect === 'either') return;
    throw new Violation(`${h.label}: accepted (${shown}); it must be refused`);
  }
  if (h.expect === 'tooLarge' && status !== 431) throw new Violation(`${h.label}: answered ${shown}; a head too large is 431`);
  if (h.expect === 'targetTooLong' && status !== 414 && status !== 431) throw new Violation(`${h.label}: answered ${shown}; a target too long is 414 (or 431)`);
  const problem = errorBodyProblem(body);
  if (problem !== undefined) throw new Violation(`${h.label}: answered ${status}, but ${problem}`);
}
