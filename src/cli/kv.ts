// baton kv get|put|del|ls|watch: shared state with revisions, compare-and-swap
// and watch (docs/shared-state.md). Values are JSON; --string stores the
// argument as a string as it is.
import type { KvChange, KvEntry } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { DEFAULT_LIST_LIMIT, MAX_KV_LIST_BYTES } from '../limits.ts';
import { ExitCode, UsageError, integer, parse, positionalArgs, reportError } from './command.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';
import { compact, printJson, table } from './output.ts';

const leaseText = (e: KvEntry): string => (e.lease === null ? '-' : `${e.lease.key}#${e.lease.token}`);

const getUsage = 'baton kv get <key> [--json]';
const get: Action = {
  name: 'get',
  summary: "a key's value (and with --json its revisions and lease)",
  usage: getUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, connectOptions, getUsage);
    if (values.help) return printHelp(getUsage, `Prints the value as JSON on one line. An absent key (or one whose lease ended) is NOT_FOUND.
--json prints the entry: { key, value, revision, createRevision, version, lease }.
`);
    const [key] = positionalArgs(positionals, ['key'], getUsage);
    return withReader(values, async (c) => {
      const entry = await c.kvGet(key!);
      if (entry === null) throw new BatonError('NOT_FOUND', `no kv key ${JSON.stringify(key)}`, { details: { key } });
      if (values.json) printJson(entry);
      else process.stdout.write(`${JSON.stringify(entry.value)}\n`);
      return ExitCode.ok;
    });
  },
};

const putUsage = 'baton kv put <key> <json> [--string] [--expect-revision <n>] [--lease <key> --lease-token <n>] [--json]';
const put: Action = {
  name: 'put',
  summary: 'set a key; --expect-revision makes it a compare-and-swap',
  usage: putUsage,
  async run(argv) {
    const options = { ...connectOptions, string: { type: 'boolean' }, 'expect-revision': { type: 'string' }, lease: { type: 'string' }, 'lease-token': { type: 'string' } } as const;
    const { values, positionals } = parse(argv, options, putUsage);
    if (values.help) {
      return printHelp(putUsage, `Sets the key to the value, JSON ('{"a":1}', '42', '"text"'), at most 64 KiB. Prints the new revision.

  --string               store the argument as a string, as it is (no JSON parsing)
  --expect-revision <n>  only if the key is at revision n now; 0: only if it does not exist.
                         Otherwise CONFLICT (exit 1), naming the revision it is at: read it again and retry
  --lease <key>          bind the key to this held lease (with --lease-token, from 'baton lease acquire'):
  --lease-token <n>      the key disappears when the lease ends
`);
    }
    const [key, text] = positionalArgs(positionals, ['key', 'json'], putUsage);
    let value: unknown = text;
    if (!values.string) {
      try {
        value = JSON.parse(text!) as unknown;
      } catch {
        throw new UsageError(`the value must be JSON, got ${JSON.stringify(text)}: quote a string ('"${text}"') or pass --string`);
      }
    }
    const expectRevision = integer('--expect-revision', values['expect-revision'], { min: 0 });
    const token = integer('--lease-token', values['lease-token'], { min: 1 });
    if ((values.lease === undefined) !== (token === undefined)) throw new UsageError(`--lease and --lease-token go together\nusage: ${putUsage}`);
    return withCoordinator(values, async (c) => {
      const entry = await c.kvPut(key!, value, {
        ...(expectRevision === undefined ? {} : { expectRevision }),
        ...(values.lease === undefined ? {} : { lease: { key: values.lease, token: token! } }),
      });
      if (values.json) printJson(entry);
      else process.stdout.write(`put ${key} at revision ${entry.revision} (version ${entry.version})\n`);
      return ExitCode.ok;
    });
  },
};

const delUsage = 'baton kv del <key> [--expect-revision <n>] [--json]';
const del: Action = {
  name: 'del',
  summary: 'delete a key (with --expect-revision, only at that revision)',
  usage: delUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, 'expect-revision': { type: 'string' } }, delUsage);
    if (values.help) return printHelp(delUsage, `Deletes the key; an absent key is not an error (nothing is deleted).

  --expect-revision <n>  only if the key is at revision n now (0: absent); otherwise CONFLICT
`);
    const [key] = positionalArgs(positionals, ['key'], delUsage);
    const expectRevision = integer('--expect-revision', values['expect-revision'], { min: 0 });
    return withCoordinator(values, async (c) => {
      const result = await c.kvDelete(key!, expectRevision === undefined ? {} : { expectRevision });
      if (values.json) printJson(result);
      else process.stdout.write(result.deleted ? `deleted ${key} at revision ${result.revision}\n` : `${key} did not exist\n`);
      return ExitCode.ok;
    });
  },
};

const lsUsage = 'baton kv ls [--prefix <p>] [--after <key>] [--limit <n>] [--json]';
const ls: Action = {
  name: 'ls',
  summary: 'keys in key order, with revisions and values',
  usage: lsUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, prefix: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } }, lsUsage);
    if (values.help) return printHelp(lsUsage, `Lists keys (under a prefix), in key order, and the store's revision at the read
(watch from it to miss nothing after this list).

  --prefix <p>   only keys starting with p
  --after <key>  only keys after this one (the next page)
  --limit <n>    at most n keys (default ${DEFAULT_LIST_LIMIT}; a page also ends at ${MAX_KV_LIST_BYTES / 1_048_576} MiB of values)
`);
    positionalArgs(positionals, [], lsUsage);
    const limit = integer('--limit', values.limit, { min: 1 });
    return withReader(values, async (c) => {
      const list = await c.kvList({
        ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
        ...(values.after === undefined ? {} : { after: values.after }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (values.json) printJson(list);
      else {
        if (list.entries.length === 0) process.stdout.write('no keys\n');
        else process.stdout.write(table(['KEY', 'REVISION', 'VERSION', 'LEASE', 'VALUE'], list.entries.map((e) => [e.key, e.revision, e.version, leaseText(e), compact(e.value)])));
        process.stdout.write(`revision ${list.revision}${list.more ? ` (more: --after ${JSON.stringify(list.entries.at(-1)!.key)})` : ''}\n`);
      }
      return ExitCode.ok;
    });
  },
};

function changeLine(change: Exclude<KvChange, { type: 'compacted' }>): string {
  if (change.type === 'put') return `${change.revision}  put     ${change.key}  ${JSON.stringify(change.value)}\n`;
  return `${change.revision}  delete  ${change.key}${change.reason === 'deleted' ? '' : `  (${change.reason})`}\n`;
}

const watchUsage = 'baton kv watch [<key> | --prefix <p>] [--from-revision <n>] [--json]';
const watch: Action = {
  name: 'watch',
  summary: 'print changes to a key or prefix as they happen (resumable from a revision)',
  usage: watchUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, prefix: { type: 'string' }, 'from-revision': { type: 'string' } }, watchUsage);
    if (values.help) return printHelp(watchUsage, `Prints each change, one a line: revision, put or delete, key, value (--json: the change as JSON),
until SIGINT or SIGTERM. With neither a key nor --prefix, every key.

  --prefix <p>            keys starting with p
  --from-revision <n>     first the changes after revision n (from the event log), then new ones. If the
                          log no longer has them (its retention pruned them), says so and exits 1
`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}\nusage: ${watchUsage}`);
    const key = positionals[0];
    if (key !== undefined && values.prefix !== undefined) throw new UsageError(`a key or --prefix, not both\nusage: ${watchUsage}`);
    const fromRevision = integer('--from-revision', values['from-revision'], { min: 0 });
    return withCoordinator(values, async (c) => {
      const keepAlive = setInterval(() => {}, 1 << 30);
      try {
        return await new Promise<number>((resolve) => {
          const stop = (code: number): void => {
            subscription.close();
            process.off('SIGINT', interrupted);
            process.off('SIGTERM', interrupted);
            resolve(code);
          };
          const interrupted = (): void => stop(ExitCode.ok);
          const subscription = c.kvWatch(
            (change) => {
              if (change.type === 'compacted') {
                const message = `the changes after revision ${change.fromRevision} were pruned from the event log (kept from ${change.compactRevision + 1}): read again with 'baton kv ls' and watch from its revision`;
                stop(reportError(new BatonError('NOT_FOUND', message), values.json === true));
                return;
              }
              process.stdout.write(values.json ? `${JSON.stringify(change)}\n` : changeLine(change));
            },
            { ...(key === undefined ? {} : { key }), ...(values.prefix === undefined ? {} : { prefix: values.prefix }), ...(fromRevision === undefined ? {} : { fromRevision }) },
          );
          process.once('SIGINT', interrupted);
          process.once('SIGTERM', interrupted);
        });
      } finally {
        clearInterval(keepAlive);
      }
    });
  },
};

export const kvCommand = group('kv', 'shared state with revisions: get, put (compare-and-swap), del, ls, watch', [get, put, del, ls, watch]);
