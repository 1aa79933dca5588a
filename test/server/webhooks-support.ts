// What the webhook tests share: a real receiver on loopback that records each
// request and answers as the test says, and `baton webhook` through a daemon.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { RunningDaemon } from '../../support/daemon.ts';
import { baton, sleep } from '../helpers/procs.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (0: it never answered). */
  status: number;
}

/** How the receiver answers the n-th request (0-based): a status, or 'hang' (never answers). */
export type Answer = (n: number, body: string) => number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  answer: Answer;
  /** Waits until `predicate` holds of what was received (polling; judged by state, not time). */
  until(predicate: (received: Received[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export async function receiver(t: TestContext, answer: Answer = () => 204): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const self: Receiver = {
    url: '',
    received: [],
    answer,
    async until(predicate, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(self.received)) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; received ${JSON.stringify(self.received.map((r) => [r.headers['webhook-id'], r.status]))}`);
        await sleep(25);
      }
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = self.answer(self.received.length, body);
      self.received.push({ headers: req.headers, body, status: status === 'hang' ? 0 : status });
      if (status === 'hang') hanging.add(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  self.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hook`;
  t.after(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return self;
}

/** `baton webhook <args> --json` against the daemon of `stateDir`: its parsed output, or a failure naming stderr. */
export async function webhookCli(stateDir: string, args: string[]): Promise<unknown> {
  const run = await baton(['webhook', ...args, '--json', '--state-dir', stateDir], { env: { BATON_NO_DAEMON: '' } });
  assert.equal(run.code, 0, `baton webhook ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

export interface Added {
  endpoint: { id: string };
  secret: string;
}

/** The JSON body each request carried, parsed. */
export const payloads = (received: Received[]): Array<{ type: string; data: { seq?: number; key?: string } }> => received.map((r) => JSON.parse(r.body));

/** Verifies as a receiver would, with an implementation not ours: throws unless one of the signatures is the secret's. */
export const verify = (secret: string, r: Received): unknown => new Webhook(secret).verify(r.body, r.headers as Record<string, string>);

/**
 * Three deliveries in flight (the receiver never answers) when the daemon is
 * killed with SIGKILL; then `second` starts a daemon on the same store, and
 * the receiver answers. Each is sent again with its webhook-id, within 15 s
 * although its claim holds 25 s: the dead daemon's node lapsed (--node-ttl 0.5).
 */
export async function killedWithDeliveriesInFlight(t: TestContext, first: RunningDaemon, stateDir: string, second: () => Promise<string>): Promise<void> {
  const hook = await receiver(t, () => 'hang');
  t.after(() => first.kill()); // if the test fails before its kill
  const added = (await webhookCli(stateDir, ['add', hook.url, '--event', 'task.added', '--allow-private'])) as Added;
  for (const title of ['a', 'b', 'c']) await first.client().addTask({ title });
  await hook.until((r) => r.length === 3, 'three sends in flight');
  const inFlight = new Set(hook.received.map((r) => r.headers['webhook-id']));
  await first.kill();

  hook.answer = () => 200;
  const secondDir = await second();
  const answered = (r: Received[]): Received[] => r.filter((x) => x.status === 200);
  await hook.until((r) => new Set(answered(r).map((x) => x.headers['webhook-id'])).size === 3, 'the three sent again', 15_000);
  assert.deepEqual(new Set(answered(hook.received).map((x) => x.headers['webhook-id'])), inFlight, 'the same webhook-ids: a receiver dedupes by them');
  assert.deepEqual(payloads(answered(hook.received)).map((p) => p.type), ['task.added', 'task.added', 'task.added']);
  for (const r of hook.received) verify(added.secret, r);
  const rows = (await webhookCli(secondDir, ['deliveries'])) as Array<{ status: string }>;
  assert.deepEqual(rows.map((r) => r.status), ['delivered', 'delivered', 'delivered']);
}
