// baton webhook add|list|remove|rotate|test|deliveries: endpoints the daemon
// delivers the project's events to, signed per Standard Webhooks
// (docs/webhooks.md). Through the daemon only: it is what delivers.
import { RemoteCoordinator } from '../client/remote.ts';
import type { Coordinator } from '../coordinator.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../engine/webhooks.ts';
import { DEFAULT_LIST_LIMIT } from '../limits.ts';
import { ExitCode, UsageError, durationMs, integer, parse, positionalArgs } from './command.ts';
import { connectOptions, printHelp, withCoordinator, type ConnectChoice } from './connect.ts';
import { group, type Action } from './group.ts';
import { printJson, table, when } from './output.ts';

/** The daemon's client, or a usage error: the embedded store has nobody to deliver. */
async function withDaemon<T>(choice: ConnectChoice, fn: (c: RemoteCoordinator) => Promise<T>): Promise<T> {
  return withCoordinator(choice, async (c: Coordinator) => {
    if (!(c instanceof RemoteCoordinator)) throw new UsageError("webhooks are delivered by the daemon: run 'baton webhook' without --no-daemon or --db");
    return fn(c);
  });
}

const stateOf = (e: WebhookEndpoint): string =>
  e.disabledAt !== null ? `disabled: ${e.disabledReason ?? ''}` : e.failingSince !== null ? `failing since ${new Date(e.failingSince).toISOString()}` : 'enabled';

function secretNote(secret: string, e: WebhookEndpoint): string {
  const overlap = e.previousSecretUntil === null ? '' : `the previous secret also signs until ${new Date(e.previousSecretUntil).toISOString()}\n`;
  return `secret: ${secret}\n(shown this once: give it to the receiver, which verifies webhook-signature with it)\n${overlap}`;
}

const addUsage = 'baton webhook add <url> [--event <prefix>]... [--allow-private] [--disable-after <duration>] [--json]';
const add: Action = {
  name: 'add',
  summary: 'deliver events to a URL; prints its signing secret once',
  usage: addUsage,
  async run(argv) {
    const options = { ...connectOptions, event: { type: 'string', multiple: true }, 'allow-private': { type: 'boolean' }, 'disable-after': { type: 'string' } } as const;
    const { values, positionals } = parse(argv, options, addUsage);
    if (values.help) {
      return printHelp(
        addUsage,
        `Adds an endpoint: every event committed from now on whose type matches a prefix is POSTed to <url>, signed
(webhook-id, webhook-timestamp, webhook-signature), retried with backoff until a 2xx. Prints the endpoint's
id and its secret (whsec_...), which is never shown again ('webhook rotate' makes a new one).

  --event <prefix>          a type or family: task.  task.completed  lease.  (repeat; none: every event)
  --allow-private           the URL may be on this machine or its networks (loopback, private, link-local);
                            the daemon must also run with --webhooks-allow-private
  --disable-after <d>       disable the endpoint once every delivery has failed for this long (default 5d)
`,
      );
    }
    const [url] = positionalArgs(positionals, ['url'], addUsage);
    const disableAfterMs = durationMs('--disable-after', values['disable-after'], true);
    const body = {
      url: url!,
      ...(values.event === undefined ? {} : { events: values.event }),
      ...(values['allow-private'] ? { allowPrivate: true } : {}),
      ...(disableAfterMs === undefined ? {} : { disableAfterMs }),
    };
    return withDaemon(values, async (c) => {
      const { endpoint, secret } = await c.daemonOperation('webhookAdd', body);
      if (values.json) printJson({ endpoint, secret });
      else process.stdout.write(`added webhook ${endpoint.id} -> ${endpoint.url} (${endpoint.events.length === 0 ? 'every event' : endpoint.events.join(' ')})\n${secretNote(secret, endpoint)}`);
      return ExitCode.ok;
    });
  },
};

const listUsage = 'baton webhook list [--json]';
const list: Action = {
  name: 'list',
  summary: 'the endpoints, their events and state (never their secrets)',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, listUsage);
    if (values.help) return printHelp(listUsage, 'Lists the webhook endpoints with a fingerprint of each secret (sha256, shortened), never the secret.\n');
    positionalArgs(positionals, [], listUsage);
    return withDaemon(values, async (c) => {
      const endpoints = await c.daemonOperation('webhookList', {});
      if (values.json) printJson(endpoints);
      else if (endpoints.length === 0) process.stdout.write('no webhooks\n');
      else process.stdout.write(table(['ID', 'URL', 'EVENTS', 'SECRET', 'STATE'], endpoints.map((e) => [e.id, e.url, e.events.join(' ') || '*', e.secretFingerprint, stateOf(e)])));
      return ExitCode.ok;
    });
  },
};

const removeUsage = 'baton webhook remove <id> [--json]';
const remove: Action = {
  name: 'remove',
  summary: 'stop delivering to an endpoint, and drop its deliveries',
  usage: removeUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, removeUsage);
    if (values.help) return printHelp(removeUsage, 'Removes the endpoint; its pending deliveries are dropped with it.\n');
    const [id] = positionalArgs(positionals, ['id'], removeUsage);
    return withDaemon(values, async (c) => {
      await c.daemonOperation('webhookRemove', { id: id! });
      if (values.json) printJson(null);
      else process.stdout.write(`removed webhook ${id}\n`);
      return ExitCode.ok;
    });
  },
};

const rotateUsage = 'baton webhook rotate <id> [--overlap <duration>] [--json]';
const rotate: Action = {
  name: 'rotate',
  summary: "a new signing secret (printed once); the old one also signs during the overlap",
  usage: rotateUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, overlap: { type: 'string' } }, rotateUsage);
    if (values.help) {
      return printHelp(
        rotateUsage,
        `Makes a new secret and prints it once. Until the overlap ends, each delivery carries two signatures
(webhook-signature: v1,<new> v1,<old>), so a receiver still holding the old secret keeps verifying.

  --overlap <duration>   how long the old secret still signs (default 24h; 0: not at all)
`,
      );
    }
    const [id] = positionalArgs(positionals, ['id'], rotateUsage);
    const overlapMs = durationMs('--overlap', values.overlap);
    return withDaemon(values, async (c) => {
      const { endpoint, secret } = await c.daemonOperation('webhookRotate', { id: id!, ...(overlapMs === undefined ? {} : { overlapMs }) });
      if (values.json) printJson({ endpoint, secret });
      else process.stdout.write(`rotated the secret of webhook ${endpoint.id}\n${secretNote(secret, endpoint)}`);
      return ExitCode.ok;
    });
  },
};

function outcomeOf(d: WebhookDelivery): string {
  const last = d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? '-');
  return d.attempts === 0 ? 'not sent yet' : `${last}${d.lastMs === null ? '' : ` in ${d.lastMs} ms`}`;
}

const testUsage = 'baton webhook test <id> [--json]';
const test: Action = {
  name: 'test',
  summary: 'send a webhook.test delivery now and print its outcome',
  usage: testUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, testUsage);
    if (values.help) return printHelp(testUsage, 'Sends a webhook.test event to this endpoint only, waits for the first attempt, and prints its outcome.\nExit 1 if it was not answered 2xx (it is retried like any delivery).\n');
    const [id] = positionalArgs(positionals, ['id'], testUsage);
    return withDaemon(values, async (c) => {
      const delivery = await c.daemonOperation('webhookTest', { id: id! });
      if (values.json) printJson(delivery);
      else process.stdout.write(`${delivery.id}: ${delivery.status}, ${outcomeOf(delivery)}\n`);
      return delivery.status === 'delivered' ? ExitCode.ok : ExitCode.failure;
    });
  },
};

const deliveriesUsage = 'baton webhook deliveries [<endpoint-id>] [--limit <n>] [--json]';
const deliveries: Action = {
  name: 'deliveries',
  summary: 'recent deliveries, newest first, with their outcome',
  usage: deliveriesUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, limit: { type: 'string' } }, deliveriesUsage);
    if (values.help) return printHelp(deliveriesUsage, `Lists deliveries (of one endpoint, or all), newest first: status, attempts, the last outcome, the next try.\n--json adds each attempt's outcome.\n\n  --limit <n>   at most this many (default ${DEFAULT_LIST_LIMIT})\n`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}\nusage: ${deliveriesUsage}`);
    const limit = integer('--limit', values.limit, { min: 1 });
    const body = { ...(positionals[0] === undefined ? {} : { endpointId: positionals[0] }), ...(limit === undefined ? {} : { limit }) };
    return withDaemon(values, async (c) => {
      const rows = await c.daemonOperation('webhookDeliveries', body);
      if (values.json) printJson(rows);
      else if (rows.length === 0) process.stdout.write('no deliveries\n');
      else {
        const header = ['ID', 'ENDPOINT', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'NEXT'];
        process.stdout.write(table(header, rows.map((d) => [d.id, d.endpointId, `${d.eventType}${d.eventSeq === null ? '' : ` #${d.eventSeq}`}`, d.status, d.attempts, outcomeOf(d), when(d.nextAt) ?? '-'])));
      }
      return ExitCode.ok;
    });
  },
};

export const webhookCommand = group('webhook', 'signed webhooks of the event log: add, list, remove, rotate, test, deliveries', [add, list, remove, rotate, test, deliveries]);
