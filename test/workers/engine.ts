// One process of a multi-process engine test. Usage: engine.ts <mode> <db> [args]
// Prints 'ready', waits for 'go' on stdin when started together, then works.
import { appendFileSync, closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isBatonError, openCoordinator } from '../../src/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';

const [mode, db, ...args] = process.argv.slice(2);
const c = await openCoordinator({ url: `sqlite:${db}`, durability: process.env.DURABILITY === 'full' ? 'full' : 'normal' });
const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

out('ready');
// Started together: wait for the parent's 'go' (stdin at /dev/null ends at once).
await new Promise((resolve) => {
  process.stdin.once('data', resolve);
  process.stdin.once('end', resolve);
});
process.stdin.pause();

switch (mode) {
  case 'claimer': {
    // Claims and completes until the queue stays empty.
    const session = await c.register({ name: `claimer-${process.pid}`, ttlMs: 10_000 });
    out(`session ${session.id}`);
    let idle = 0;
    const maxIdle = Number(args[1] ?? 20);
    while (idle < maxIdle) {
      const claims = await c.claim(session.id, { n: Number(args[0] ?? 1), leaseMs: 30_000 });
      if (claims.length === 0) {
        idle++;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      idle = 0;
      for (const claim of claims) {
        const work = Number(args[2] ?? 0);
        if (work > 0) await new Promise((r) => setTimeout(r, Math.random() * work));
        await c.complete(claim, { by: process.pid });
        out(`done ${claim.taskId} ${claim.token}`);
      }
    }
    await c.endSession(session.id);
    break;
  }
  case 'leaser': {
    // Takes exclusive leases on random keys; proves exclusion with an O_EXCL marker file per key
    // and logs each hold's token in the order holders ran.
    const [dir, rounds, keys] = args;
    for (let i = 0; i < Number(rounds); i++) {
      const key = `k${Math.floor(Math.random() * Number(keys))}`;
      const lease = await c.acquire(key, { owner: `p${process.pid}`, timeoutMs: 60_000, ttlMs: 30_000 });
      const marker = `${dir}/${key}.held`;
      try {
        closeSync(openSync(marker, 'wx'));
      } catch {
        out(`DOUBLE ${key} ${lease.token}`);
      }
      const start = now();
      appendFileSync(`${dir}/${key}.log`, `${lease.token} ${process.pid} ${start}\n`);
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      unlinkSync(marker);
      await c.release(lease);
    }
    break;
  }
  case 'hot-leaser': {
    // Takes turns on one key (short TTL) until killed or `ms` pass. The marker file
    // says who holds it until when: finding a live holder's, or an unexpired one, is a double hold.
    const [dir, ttl, ms] = args;
    const marker = `${dir}/hot.held`;
    const until = now() + Number(ms);
    while (now() < until) {
      const lease = await c.acquire('hot', { owner: `p${process.pid}`, timeoutMs: 30_000, ttlMs: Number(ttl) });
      try {
        const other = JSON.parse(readFileSync(marker, 'utf8')) as { pid: number; expiresAt: number };
        let alive = true;
        try {
          process.kill(other.pid, 0);
        } catch {
          alive = false;
        }
        if (alive || Date.now() < other.expiresAt) out(`DOUBLE ${lease.token} with ${other.pid}`);
      } catch {
        // no marker: nobody holds it
      }
      writeFileSync(marker, JSON.stringify({ pid: process.pid, expiresAt: lease.expiresAt }));
      out(`held ${lease.token}`);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      unlinkSync(marker);
      await c.release(lease);
    }
    break;
  }
  case 'reserver': {
    // Reserves against the shared budget until refused; commits what it reserved.
    let granted = 0;
    for (;;) {
      const estimate = 50 + Math.floor(Math.random() * 100);
      try {
        const r = await c.reserve({ agent: `a${process.pid}`, model: 'm', estimate });
        granted += estimate;
        out(`reserved ${estimate}`);
        await c.commitReservation(r.id, { promptTokens: estimate - 10, completionTokens: 10 });
      } catch (error) {
        if (isBatonError(error, 'BUDGET_EXCEEDED')) break;
        throw error;
      }
    }
    out(`total ${granted}`);
    break;
  }
  case 'taker': {
    // Takes from a shared limit for a while; logs each grant's time on the shared monotonic clock.
    const [ms, wait] = args;
    const until = now() + Number(ms);
    while (now() < until) {
      const r = await c.take('api', { wait: wait === 'wait', timeoutMs: 2_000 });
      if (r.granted) out(`granted ${now()}`);
      else await new Promise((res) => setTimeout(res, r.retryAfterMs));
    }
    break;
  }
  case 'writer': {
    // Commits as fast as it can for a while; counts its commits. First says what its connection
    // really runs with (PRAGMA synchronous: 1 NORMAL, 2 FULL), so a test can check DURABILITY arrived.
    const store = c instanceof Engine ? c.store : undefined;
    out(`synchronous ${store instanceof SqliteStore ? store.connectionSettings().synchronous : 'unknown'}`);
    const [ms] = args;
    const until = now() + Number(ms);
    let n = 0;
    while (now() < until) {
      await c.report({ agent: `w${process.pid}`, model: 'm', promptTokens: 1, completionTokens: 1 });
      n++;
    }
    out(`commits ${n}`);
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
await c.close();
