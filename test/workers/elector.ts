// Campaigns for an election through the daemon and, while leading, logs to
// its own file: when it was elected (the lease's store times) and, every 20
// ms, that the store still says it leads (checkLease), each line stamped with
// the wall clock before the check was asked (the store's clock on this host).
// With `--no-election`, it skips the election and just "leads" (the control).
import { appendFileSync } from 'node:fs';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { campaign } from '../../src/election.ts';

const [socketPath, name, log, ttl, mode] = process.argv.slice(2);
const ttlMs = Number(ttl);
const c = new RemoteCoordinator({ socketPath: socketPath! });
const line = (fields: Record<string, unknown>): void => appendFileSync(log!, `${JSON.stringify({ pid: process.pid, ...fields })}\n`);

if (mode === '--no-election') {
  const t = Date.now();
  line({ ev: 'elected', token: process.pid, acquiredAt: t, expiresAt: t + ttlMs, t });
  process.stdout.write('leading\n');
  for (;;) {
    const at = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    line({ ev: 'still', token: process.pid, expiresAt: at + ttlMs, t: at });
  }
}

process.stdout.write('campaigning\n');
const leadership = await campaign(c, name!, { owner: `elector-${process.pid}`, value: { pid: process.pid }, ttlMs });
const key = leadership.lease.key;
line({ ev: 'elected', token: leadership.token, acquiredAt: leadership.lease.acquiredAt, expiresAt: leadership.lease.expiresAt, t: Date.now() });
process.stdout.write(`leading ${leadership.token}\n`);
for (;;) {
  const asked = Date.now();
  try {
    const held = await c.checkLease({ key, token: leadership.token });
    line({ ev: 'still', token: leadership.token, expiresAt: held.expiresAt, t: asked });
  } catch (error) {
    line({ ev: 'lost', token: leadership.token, t: asked, error: String(error) });
    process.exit(3);
  }
  if (leadership.signal.aborted) {
    line({ ev: 'lost', token: leadership.token, t: Date.now(), error: 'signal' });
    process.exit(3);
  }
  await new Promise((r) => setTimeout(r, 20));
}
