// The floor for the daemon's handoff bench: a bare node:http server on a unix
// socket that keeps one exclusive lease per key in memory and hands it to its
// waiters in order (no store, no validation, no events). The handoff bench's
// clients (the SDK, unchanged) run against it as against the daemon, so the
// time it shows is what this machine's processes, sockets and HTTP cost.
// Usage: lease-floor-server.ts <socket path>; prints 'ready', stops on SIGTERM.
import { createServer, type ServerResponse } from 'node:http';
import { serveOnSocket } from './serve-socket.ts';

const [socketPath] = process.argv.slice(2) as [string];
let token = 0;
const held = new Map<string, number>();
const waiting = new Map<string, Array<() => void>>();

function send(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function grant(res: ServerResponse, key: string, owner: string): void {
  const now = Date.now();
  held.set(key, ++token);
  send(res, { key, owner, mode: 'exclusive', token, acquiredAt: now, expiresAt: now + 60_000, sessionId: null });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { key?: string; owner?: string; lease?: { key: string; token: number } };
    if (req.url === '/v1/acquire') {
      const key = body.key!;
      if (!held.has(key)) return grant(res, key, body.owner!);
      const line = waiting.get(key) ?? [];
      waiting.set(key, line);
      line.push(() => grant(res, key, body.owner!));
    } else if (req.url === '/v1/release') {
      const { key, token: t } = body.lease!;
      if (held.get(key) === t) {
        held.delete(key);
        waiting.get(key)?.shift()?.();
      }
      send(res, null);
    } else {
      res.writeHead(404).end();
    }
  });
});
serveOnSocket(server, socketPath);
