// Requests to a daemon over its unix socket exactly as written: raw body
// bytes, repeated headers, paths not re-encoded. For tests of what the daemon
// refuses, where the SDK would never send such a thing.
import { request } from 'node:http';

export interface Answer {
  status: number;
  body: string;
  /** The body as JSON (null when it is not). */
  json: unknown;
}

export function send(socketPath: string, method: string, path: string, body: string | Buffer = '', headers: Record<string, string | string[]> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json', ...headers } }, async (res) => {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // an event stream, or nothing
      }
      resolve({ status: res.statusCode!, body: text, json });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST /v1/<operation> with `body` (JSON text as given, or a value to stringify). */
export function post(socketPath: string, operation: string, body: unknown, headers: Record<string, string | string[]> = {}): Promise<Answer> {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return send(socketPath, 'POST', `/v1/${operation}`, text, headers);
}

/** The error an answer carries: its code and message, or undefined for a success. */
export function errorOf(answer: Answer): { code: string; message: string } | undefined {
  const e = (answer.json as { error?: { code: string; message: string } } | null)?.error;
  return e === undefined ? undefined : { code: e.code, message: e.message };
}
