// The daemon bench's anchor: a bare node:http server on a unix socket that reads
// each request's body and answers a constant JSON of the shape the daemon would
// send for that route (no parsing, no validation, no database). Usage:
// bare-server.ts <socket path>; prints 'ready' once it listens, stops on SIGTERM.
import { createServer } from 'node:http';
import { serveOnSocket } from './serve-socket.ts';

const [socketPath] = process.argv.slice(2) as [string];
const at = 1_700_000_000_000;
const task = {
  id: 1, queue: 'bench', title: 'job 1', payload: null, priority: 0, position: 1, status: 'done', runAt: at, attempts: 1, maxAttempts: 3, dependsOn: [], pendingDeps: 0,
  reason: null, result: null, lastError: null, claimedBy: null, claimExpiresAt: null, version: 3, createdAt: at, updatedAt: at,
};
const bodies = new Map<string, string>([
  ['/v1/acquire', JSON.stringify({ key: 'bench/0', owner: 'bench', mode: 'exclusive', token: 1, acquiredAt: at, expiresAt: at + 60_000, sessionId: null })],
  ['/v1/release', 'null'],
  ['/v1/register', JSON.stringify({ id: 's-1', name: 'bench', kind: 'agent', host: 'h', pid: null, labels: {}, startedAt: at, heartbeatAt: at, ttlMs: 600_000, endedAt: null, endReason: null })],
  ['/v1/claim', JSON.stringify([{ taskId: 1, task: { ...task, status: 'claimed', claimedBy: 's-1', claimExpiresAt: at + 60_000, version: 2 }, token: 1, expiresAt: at + 60_000 }])],
  ['/v1/complete', JSON.stringify(task)],
]);
const fallback = JSON.stringify({ ok: true });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = bodies.get(req.url ?? '') ?? fallback;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
serveOnSocket(server, socketPath);
