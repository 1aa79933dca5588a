// Requests Node's HTTP parser refuses before the daemon sees them (a bad or
// duplicate Content-Length, a control character in a header, a head too
// large, a head that never ends), and the few heads Node would answer itself:
// each is answered with the daemon's JSON error shape, a stable code and the
// right status, in words a client can act on. A parse error leaves the stream
// unsynchronised, so the connection is closed after the answer. Nothing here
// reaches authentication: a malformed head is refused before any request is.
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors.ts';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  /** Extra header lines (a 405's Allow). */
  headers?: Record<string, string>;
}

export interface HeadLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}

/** Node's parser errors carry llhttp's code and its fixed reason ("Invalid header value char"). */
type ParserError = Error & { code?: string; reason?: string };

const invalid = (message: string): Pick<Refusal, 'status' | 'code' | 'message'> => ({ status: 400, code: 'INVALID_ARGUMENT', message });

/** What the parser's complaint means for the client, by llhttp's code and reason. */
function describe(code: string, reason: string): Pick<Refusal, 'status' | 'code' | 'message'> {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'PAYLOAD_TOO_LARGE', message: `the request head (request line and headers) is larger than the ${maxHeaderSize} bytes the daemon accepts; send large values in the body` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the chunk extensions of the request body are too large; send the body without them' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      if (/Transfer-Encoding/i.test(reason)) return invalid('the request has both Content-Length and Transfer-Encoding; send one of them (Content-Length for a body of known size)');
      if (/Duplicate/i.test(reason)) return invalid('the request has more than one Content-Length header; send exactly one');
      return invalid('the Content-Length header must be the body\'s size in bytes, digits only');
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return invalid('the request\'s Transfer-Encoding must end with "chunked" (the daemon decodes no other coding); or send Content-Length instead');
    case 'HPE_INVALID_HEADER_TOKEN':
      if (/value/i.test(reason)) return invalid('a header value holds a character HTTP does not allow in one (a control character such as NUL, or a bare CR or LF); percent-encode it or send it in the body');
      return invalid("a header name holds a character HTTP does not allow in one (a space, a control character or a separator); names are letters, digits and !#$%&'*+-.^_`|~");
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_EOF_STATE':
      return invalid(`the request's chunked body is malformed (${reason}); each chunk starts with its size in hex, then CRLF`);
    case 'HPE_INVALID_METHOD':
      return invalid('the request does not start with an HTTP method; the daemon speaks plain HTTP/1.1 (not TLS, not another protocol)');
    case 'HPE_INVALID_URL':
      return invalid('the request target is not a valid path; send an origin-form path such as /v1/health');
    case 'HPE_PAUSED_H2_UPGRADE':
      return invalid('the daemon speaks HTTP/1.1, not HTTP/2');
    case 'HPE_INVALID_VERSION':
      if (/CRLF/i.test(reason)) return invalid('lines of the request head must end with CRLF (\\r\\n), not a bare LF');
      return invalid('the request line must end with the version HTTP/1.1 (or HTTP/1.0)');
    case 'HPE_CR_EXPECTED':
    case 'HPE_LF_EXPECTED':
    case 'HPE_STRICT':
      return invalid('lines of the request head must end with CRLF (\\r\\n), not a bare CR or LF');
    default:
      return invalid(`the request is not valid HTTP/1.1 (${reason || code}); nothing was done`);
  }
}

/**
 * The answer to an error Node reports on a client's connection, or undefined
 * for one that needs no answer: the peer reset or went away (ECONNRESET,
 * EPIPE, ...), which is not worth a word or a log line.
 */
export function refusalFor(error: ParserError, limits: HeadLimits): Refusal | undefined {
  const code = error.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // The operation never started: the body is read whole before anything is done.
    return {
      status: 408,
      code: 'ABORTED',
      message: `the request did not arrive whole within ${limits.requestTimeoutMs} ms (its head within ${limits.headersTimeoutMs} ms); nothing was done`,
      details: { timeoutMs: limits.requestTimeoutMs, headersTimeoutMs: limits.headersTimeoutMs },
    };
  }
  if (!code.startsWith('HPE_')) return undefined;
  const reason = error.reason ?? '';
  return { ...describe(code, reason), details: { parser: code, ...(reason === '' ? {} : { reason }) } };
}

/** The daemon's error shape, as every other answer has it. */
function errorBody(refusal: Refusal): string {
  return JSON.stringify({ error: { code: refusal.code, message: refusal.message, ...(refusal.details === undefined ? {} : { details: refusal.details }) } });
}

/** The whole answer as bytes on the wire, saying the connection closes. */
export function refusalBytes(refusal: Refusal): string {
  const body = errorBody(refusal);
  return (
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
    Object.entries(refusal.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
    `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/** Sends a refusal from a request handler (the head parsed, but is not one the daemon serves), closing the connection. */
export function refuse(res: ServerResponse, refusal: Refusal): void {
  const body = errorBody(refusal);
  res.writeHead(refusal.status, { ...refusal.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * What is wrong with a head the parser let through, checked before the
 * request is served (and so before authentication). HTTP/1.1 requires Host
 * (RFC 9112 3.2), and Node's own check answers a bare 400; the daemon reads
 * none, so any value does. A Transfer-Encoding that does not end in chunked
 * leaves the body's length unknown (RFC 9112 6.3): Node's parser refuses it
 * only once the body begins, after the request has gone on to be served.
 */
export function headProblem(req: IncomingMessage): Refusal | undefined {
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    return { status: 400, code: 'INVALID_ARGUMENT', message: 'an HTTP/1.1 request must carry a Host header; any value does (the daemon does not read it), e.g. "Host: baton"' };
  }
  const coding = req.headers['transfer-encoding']?.split(',').at(-1)?.trim().toLowerCase();
  if (coding !== undefined && coding !== 'chunked') return describe('HPE_INVALID_TRANSFER_ENCODING', '');
  return undefined;
}

function send(socket: Duplex, refusal: Refusal | undefined): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Closed once flushed (an answer already made goes out first): the peer may still be sending what the parser refused.
  socket.end(refusal === undefined ? '' : refusalBytes(refusal), () => socket.destroy());
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  closed: boolean;
}

/** Done with: answered, and the request read whole (a request answered early is still having its body discarded). */
const done = (e: Exchange): boolean => e.closed && e.req.complete;

/**
 * Answers, on `server`, the errors Node reports on a client's connection and
 * the heads it would otherwise answer bare (Expect, CONNECT). Call it before
 * the server listens.
 */
export function answerClientErrors(server: Server, limits: HeadLimits): void {
  /** Each connection's requests not yet done with, oldest first (HTTP/1.1 answers them in order). */
  const exchanges = new WeakMap<Duplex, Exchange[]>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const entry: Exchange = { req, res, closed: false };
    exchanges.set(req.socket, [...(exchanges.get(req.socket) ?? []).filter((e) => !done(e)), entry]);
    res.once('close', () => (entry.closed = true));
  });

  /** Connections already refused: the parser complains again about each later chunk, which needs nothing more. */
  const refused = new WeakSet<Duplex>();
  server.on('clientError', (error: ParserError, socket: Duplex) => {
    if (refused.has(socket)) return;
    refused.add(socket);
    const refusal = refusalFor(error, limits);
    if (refusal === undefined) {
      socket.destroy();
      return;
    }
    // Answers go out in the order of their requests, so the refusal waits for those owed to earlier ones
    // (pipelined): sent before them, a client would read it as theirs. Nothing new arrives meanwhile: the
    // parser has stopped.
    const settle = (): void => {
      const open = (exchanges.get(socket) ?? []).filter((e) => !done(e));
      // The request still arriving is the one whose own body broke; any other is an earlier one, complete.
      const broken = open.find((e) => !e.req.complete);
      const owed = open.find((e) => e !== broken && !e.closed && !e.res.writableFinished);
      if (owed !== undefined) {
        owed.res.once('close', settle);
        return;
      }
      // A broken request that has its answer (TCP may have refused its credentials) needs no second one.
      send(socket, broken?.res.headersSent === true ? undefined : refusal);
    };
    // An answer made in this turn reaches the socket at its end (Node corks the socket meanwhile): look after it.
    setImmediate(settle);
  });

  // Node answers these itself with an empty 417; only 100-continue is met (Node sends the 100).
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    refuse(res, { status: 417, code: 'INVALID_ARGUMENT', message: `the daemon meets no expectation but 100-continue, got Expect: ${JSON.stringify((req.headers.expect ?? '').slice(0, 200))}` });
  });

  // Without a listener Node drops a CONNECT unanswered. The socket is ours now, with no error listener of Node's.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    send(socket, { status: 405, code: 'INVALID_ARGUMENT', message: 'CONNECT is not served here: the daemon is not a proxy; send its requests (GET, POST) directly', headers: { allow: 'GET, POST, DELETE' } });
  });
}
