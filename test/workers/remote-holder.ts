// A client process of the daemon that holds a session-bound lease and a
// claimed task, then idles until it is killed.
import { RemoteCoordinator } from '../../src/client/index.ts';

const [socketPath, key] = process.argv.slice(2) as [string, string];
const c = new RemoteCoordinator({ socketPath });
const session = await c.register({ name: 'holder', ttlMs: 60_000 });
const lease = await c.acquire(key, { owner: 'holder', sessionId: session.id, ttlMs: 0 });
const claims = await c.claim(session.id, { n: 1 });
process.stdout.write(`held ${JSON.stringify({ sessionId: session.id, token: lease.token, taskId: claims[0]?.taskId ?? null })}\n`);
setInterval(() => undefined, 1 << 30);
