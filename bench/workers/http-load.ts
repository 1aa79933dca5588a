// The daemon bench's load generator: the same code drives the daemon and the
// bare anchor server. Usage: http-load.ts <socket> <mode> <concurrency> <ms> <tag> [queue]
//   lease     each of <concurrency> loops acquires its own key, then releases it
//   task      register a session, then claim n=1 + complete, one task at a time
//   tasks32   claim n=32 + completeMany
// Every request is a POST with a JSON body and an idempotency-key header made
// as the SDK makes them (UUIDv7), over one keep-alive http.Agent (maxSockets 64, as the SDK's).
// Warms up for a moment, prints 'ready', starts on 'go' (stdin), then prints
// `result <json>`: requests, tasks, elapsed ms and per-request latency quantiles.
import { newIdempotencyKey } from '../../src/client/idempotency-key.ts';
import { Agent, request } from 'node:http';
import { readyThenGo } from './go.ts';

const [socketPath, mode, concurrencyArg, msArg, tag, queue = 'bench'] = process.argv.slice(2) as [string, string, string, string, string, string?];
const concurrency = Number(concurrencyArg);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const WARM_MS = 400;

let latencies: number[] = [];
let requests = 0;
let tasks = 0;

function post<T>(path: string, body: unknown): Promise<T> {
  const text = JSON.stringify(body);
  const started = performance.now();
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'idempotency-key': newIdempotencyKey() },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`${path} answered ${res.statusCode}: ${answer.slice(0, 300)}`));
            return;
          }
          latencies.push(performance.now() - started);
          requests++;
          resolve(JSON.parse(answer) as T);
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

interface Lease { key: string; token: number }
interface Claim { taskId: number; token: number }

/** One client's loop until `until` (task modes: or until the queue is empty). */
async function client(i: number, until: number, sessionId: string): Promise<void> {
  const key = `bench/${tag}/${i}`;
  while (performance.now() < until) {
    if (mode === 'lease') {
      const lease = await post<Lease>('/v1/acquire', { key, owner: `bench-${tag}-${i}`, timeoutMs: 30_000 });
      await post('/v1/release', { lease: { key: lease.key, token: lease.token } });
    } else {
      const n = mode === 'tasks32' ? 32 : 1;
      const claims = await post<Claim[]>('/v1/claim', { sessionId, queue, n });
      if (claims.length === 0) return;
      if (n === 1) await post('/v1/complete', { claim: { taskId: claims[0]!.taskId, token: claims[0]!.token } });
      else await post('/v1/completeMany', { items: claims.map((c) => ({ taskId: c.taskId, token: c.token })) });
      tasks += claims.length;
    }
  }
}

async function run(ms: number, sessionId: string): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i, started + ms, sessionId)));
  return performance.now() - started;
}

let sessionId = '';
if (mode !== 'lease') sessionId = (await post<{ id: string }>('/v1/register', { name: `bench-${tag}-${process.pid}`, ttlMs: 600_000 })).id;
await run(WARM_MS, sessionId);
latencies = [];
requests = 0;
tasks = 0;
await readyThenGo();
const ms = await run(Number(msArg), sessionId);
const sorted = Float64Array.from(latencies).sort();
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
process.stdout.write(`result ${JSON.stringify({ requests, tasks, ms, p50: q(0.5), p99: q(0.99) })}\n`);
agent.destroy();
