// Holds a lease bound to its own session (the session names this pid), puts a
// key bound to that lease, prints `held <revision>`, and lives until killed.
import { openCoordinator } from '../../src/index.ts';

const [url, key = 'leader/who'] = process.argv.slice(2);
const c = await openCoordinator({ url: url! });
// A long heartbeat deadline: only the process's death (the sweeper's dead-pid check) ends this session.
const session = await c.register({ name: `holder-${process.pid}`, ttlMs: 600_000 });
const lease = await c.acquire('leader', { owner: session.name, sessionId: session.id, ttlMs: 0 });
const put = await c.kvPut(key, { pid: process.pid }, { lease });
process.stdout.write(`held ${put.revision} ${session.id}\n`);
setInterval(() => undefined, 60_000);
