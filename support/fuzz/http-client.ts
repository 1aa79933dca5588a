// Sending what the fuzzer made to a real daemon: a request through Node's
// HTTP client (any bytes as the body, a header given twice), or raw bytes on
// a fresh socket for heads no client would write. Each waits only so long:
// no answer by then is an outcome of its own, not an exception.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** Where a daemon listens: its unix socket, or TCP with a bearer token. */
export type Endpoint = { via: 'unix'; socketPath: string } | { via: 'tcp'; host: string; port: number; token: string };

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text (empty for an event stream: its head is the answer). */
  text: string;
  ms: number;
}

export type Outcome = ({ kind: 'answer' } & Answer) | { kind: 'timeout'; ms: number } | { kind: 'closed'; ms: number; error: string };

export interface Outgoing {
  method: string;
  path: string;
  /** In order; a name given twice is sent as two header lines. */
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
}

/** Sends one request on a connection of its own; resolves with its answer, or with how it ended without one. */
export function send(endpoint: Endpoint, out: Outgoing, patienceMs: number): Promise<Outcome> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of out.headers) {
    const had = headers[name];
    headers[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  if (out.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(out.body.length);
  }
  if (endpoint.via === 'tcp') headers.authorization = `Bearer ${endpoint.token}`;
  const target = endpoint.via === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    // Once a head is in, the answer is what arrives before the connection ends: a daemon that answers 413 early may
    // close while the rest of the body is still being written (EPIPE), and that answer still counts.
    let answered: (() => Outcome) | undefined;
    const req = request({ ...target, method: out.method, path: out.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      answered = () => ({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: ms() });
      // An event stream never ends: its head is the answer.
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) return finish(answered());
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(answered!()));
      res.on('error', () => finish(answered!()));
      res.on('aborted', () => finish(answered!()));
    });
    const timer = setTimeout(() => finish({ kind: 'timeout', ms: ms() }), patienceMs);
    req.on('error', (error) => finish(answered?.() ?? { kind: 'closed', ms: ms(), error: error.message }));
    req.end(out.body);
  });
}

/** What came back on a raw socket: the bytes, and whether the daemon closed it. */
export interface RawOutcome {
  bytes: Buffer;
  closed: boolean;
  ms: number;
}

/** Writes `bytes` on a fresh connection and reads until the daemon closes it, the patience runs out, or one whole answer is in. */
export function sendRaw(endpoint: Endpoint, bytes: Buffer, patienceMs: number): Promise<RawOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = endpoint.via === 'unix' ? connect(endpoint.socketPath) : connect(endpoint.port, endpoint.host);
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: got, closed, ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => finish(false), patienceMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (parseRaw(got)?.complete === true) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // The daemon may close before it reads all we wrote (EPIPE, ECONNRESET): what it answered is still in `got`.
    socket.on('error', () => finish(true));
  });
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body is all in (by content-length or the last chunk). */
  complete: boolean;
}

/** The first answer in `bytes`, or undefined until its head is in. Enough HTTP/1.1 for what the daemon sends. */
export function parseRaw(bytes: Buffer): RawAnswer | undefined {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return { status, headers, body: rest.subarray(0, length).toString('utf8'), complete: rest.length >= length };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    let body = '';
    let at = 0;
    const raw = rest.toString('latin1');
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', at);
      if (lineEnd === -1) return { status, headers, body, complete: false };
      const size = parseInt(raw.slice(at, lineEnd), 16);
      if (size === 0) return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), complete: true };
      body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 4 + size;
    }
  }
  return { status, headers, body: rest.toString('utf8'), complete: false };
}
