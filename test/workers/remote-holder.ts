// A client process of the daemon that holds a session-bound lease and a
// claimed task, then idles until it is killed.
// Usage: remote-holder.ts <socket path | endpoint JSON> <key> [session ttl ms]
import { RemoteCoordinator, type RemoteOptions } from '../../src/client/index.ts';

const [where, key, ttl = '60000'] = process.argv.slice(2) as [string, string, string?];
const c = new RemoteCoordinator(where.startsWith('{') ? (JSON.parse(where) as RemoteOptions) : { socketPath: where });
const session = await c.register({ name: 'holder', ttlMs: Number(ttl) });
const lease = await c.acquire(key, { owner: 'holder', sessionId: session.id, ttlMs: 0 });
const claims = await c.claim(session.id, { n: 1 });
process.stdout.write(`held ${JSON.stringify({ sessionId: session.id, token: lease.token, taskId: claims[0]?.taskId ?? null })}\n`);
setInterval(() => undefined, 1 << 30);
