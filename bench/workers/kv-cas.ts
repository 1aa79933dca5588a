// A compare-and-swap bench process: increments counters by CAS for <ms>
// milliseconds, on one of <keys> keys chosen at random each time.
// Usage: kv-cas.ts <target> <keys> <ms> <prefix>, where <target> is
//   sqlite:<db>        baton's engine on that file, in this process (embedded)
//   socket:<path>      baton's daemon, through the SDK
//   http://host:port   etcd's HTTP/JSON gateway: /v3/kv/txn, compare mod_revision, put or read back
// Each key's last known revision and value are kept: a CAS that loses reads
// the key again (baton: kvGet; etcd: the txn's failure branch, same round
// trip) and tries again. Prints 'ready', starts on 'go', then
// `result <puts> <conflicts> <elapsed ms>`.
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError, openCoordinator, type Coordinator } from '../../src/index.ts';
import { readyThenGo } from './go.ts';

const [target, keysArg, msArg, prefix] = process.argv.slice(2) as [string, string, string, string];
const keys = Number(keysArg);
const ms = Number(msArg);

interface Known { rev: number; n: number }
type Cas = (key: string, known: Known) => Promise<{ ok: boolean; now: Known }>;

function batonCas(c: Coordinator): Cas {
  return async (key, known) => {
    try {
      const entry = await c.kvPut(key, known.n + 1, { expectRevision: known.rev });
      return { ok: true, now: { rev: entry.revision, n: known.n + 1 } };
    } catch (error) {
      if (!isBatonError(error, 'CONFLICT')) throw error;
      const entry = await c.kvGet(key);
      return { ok: false, now: entry === null ? { rev: 0, n: 0 } : { rev: entry.revision, n: entry.value as number } };
    }
  };
}

function etcdCas(base: string): Cas {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return async (key, known) => {
    const k = b64(key);
    const res = await fetch(`${base}/v3/kv/txn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        compare: [{ key: k, result: 'EQUAL', target: 'MOD', mod_revision: String(known.rev) }],
        success: [{ request_put: { key: k, value: b64(String(known.n + 1)) } }],
        failure: [{ request_range: { key: k } }],
      }),
    });
    if (!res.ok) throw new Error(`etcd txn: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { succeeded?: boolean; header: { revision: string }; responses?: Array<{ response_range?: { kvs?: Array<{ mod_revision: string; value: string }> } }> };
    if (body.succeeded === true) return { ok: true, now: { rev: Number(body.header.revision), n: known.n + 1 } };
    const kv = body.responses?.[0]?.response_range?.kvs?.[0];
    return { ok: false, now: kv === undefined ? { rev: 0, n: 0 } : { rev: Number(kv.mod_revision), n: Number(Buffer.from(kv.value, 'base64').toString()) } };
  };
}

let coordinator: Coordinator | undefined;
let cas: Cas;
if (target.startsWith('http://')) cas = etcdCas(target);
else {
  coordinator = target.startsWith('socket:') ? new RemoteCoordinator({ socketPath: target.slice('socket:'.length) }) : await openCoordinator({ url: target });
  cas = batonCas(coordinator);
}

const known = new Map<string, Known>();
async function step(key: string): Promise<boolean> {
  const r = await cas(key, known.get(key) ?? { rev: 0, n: 0 });
  known.set(key, r.now);
  return r.ok;
}

// Warm up on a key of this process's own, so the counters measured start at zero.
const warmUntil = performance.now() + 300;
while (performance.now() < warmUntil) await step(`${prefix}/warm/${process.pid}`);
await readyThenGo();
let puts = 0;
let conflicts = 0;
const started = performance.now();
const until = started + ms;
while (performance.now() < until) {
  if (await step(`${prefix}/${Math.floor(Math.random() * keys)}`)) puts++;
  else conflicts++;
}
process.stdout.write(`result ${puts} ${conflicts} ${performance.now() - started}\n`);
await coordinator?.close();
