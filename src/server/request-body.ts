// A request's body: read whole up to the daemon's limit, decoded as strict
// UTF-8 JSON, or (for a request refused before its body was read) read and
// dropped, so the client gets to the answer.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { BatonError } from '../errors.ts';

/** Reads the body, refusing one past the limit with 413 before it is all in memory. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      reject(new BatonError('PAYLOAD_TOO_LARGE', `the request body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BatonError('PAYLOAD_TOO_LARGE', `the request body passed the limit of ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', (error) => reject(new BatonError('ABORTED', `the request body did not arrive whole: ${error.message}`, { cause: error }))); // a client gone mid-body is no failure of ours
  });
}

export function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  // Bytes that are not UTF-8 are refused, not replaced with U+FFFD (which would make different keys one):
  // isUtf8 checks them without a decoding copy. A BOM is kept, and so refused by JSON.parse.
  if (!isUtf8(body)) throw new BatonError('INVALID_ARGUMENT', 'the request body is not valid UTF-8');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BatonError('INVALID_ARGUMENT', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BatonError('INVALID_ARGUMENT', `the request body must be a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A refused body is read and dropped up to this many times the body limit, for at most DRAIN_MS; past that the connection just closes. */
const DRAIN_FACTOR = 8;
const DRAIN_MS = 5_000;

/**
 * Reads and drops what is left of a refused request's body before its
 * answer goes out. Node closes the connection after an answer sent before
 * the body was read (always after a 413), and a client still writing the
 * body then gets EPIPE or a reset instead of the answer (a lingering close,
 * as nginx does). A body declared past DRAIN_FACTOR times the limit is not
 * waited for.
 */
export function drainBody(req: IncomingMessage, limit: number): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  const most = DRAIN_FACTOR * limit;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > most) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', count);
      resolve();
    };
    const count = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > most) done();
    };
    const timer = setTimeout(done, DRAIN_MS);
    req.on('data', count);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}
