// A baton engine bench process. Usage: engine.ts <mode> <db> [args]; prints 'ready',
// starts on 'go' (stdin), prints its result on one line.
import { openCoordinator } from '../../src/index.ts';
import { readyThenGo } from './go.ts';

const [mode, db, ...args] = process.argv.slice(2);
const c = await openCoordinator({ url: `sqlite:${db}` });
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const session = await c.register({ name: `bench-${process.pid}` });
await readyThenGo();

if (mode === 'claimer') {
  // Claims a batch, completes each; stops when nothing is left to claim.
  const batch = Number(args[0] ?? 32);
  let done = 0;
  let last = now();
  for (;;) {
    const claims = await c.claim(session.id, { n: batch });
    if (claims.length === 0) break;
    // Completions go back in one transaction, as graphile-worker batches its own.
    await c.completeMany(claims);
    done += claims.length;
    last = now();
  }
  process.stdout.write(`result ${done} ${last}\n`);
} else if (mode === 'leaser') {
  // Acquire + release on one of `keys` keys, for `ms` milliseconds.
  const [ms, keys] = args.map(Number);
  const until = now() + ms!;
  let n = 0;
  while (now() < until) {
    const lease = await c.acquire(`k${n % keys!}`, { owner: 'bench', timeoutMs: 60_000 });
    await c.release(lease);
    n++;
  }
  process.stdout.write(`result ${n} ${now()}\n`);
} else if (mode === 'reserver') {
  const [ms] = args.map(Number);
  const until = now() + ms!;
  let n = 0;
  while (now() < until) {
    const r = await c.reserve({ agent: `a${process.pid}`, model: 'm', estimate: 10 });
    await c.commitReservation(r.id, { promptTokens: 5, completionTokens: 3 });
    n++;
  }
  process.stdout.write(`result ${n} ${now()}\n`);
}
await c.endSession(session.id);
await c.close();
