// baton lease acquire|release|renew|list|show|force-release: named leases with fencing tokens.
import type { Lease } from '../coordinator.ts';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_LEASE_TTL_MS, PATH_PREFIX } from '../limits.ts';
import { ExitCode, integer, millis, parse, positionalArgs, required } from './command.ts';
import { localActor } from './actor.ts';
import { fields, indent, printJson, table, when } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';
import { viewKey, waitingForLease, type KeyView } from './lease-holders.ts';
import { cliOwner } from './owner.ts';

function showLease(lease: Lease): string {
  return fields([
    ['key', lease.key],
    ['token', lease.token],
    ['owner', lease.owner],
    ['mode', lease.mode],
    ['acquiredAt', when(lease.acquiredAt)],
    ['expiresAt', lease.expiresAt === null ? 'never (ends with its session)' : when(lease.expiresAt)],
    ['session', lease.sessionId ?? undefined],
  ]);
}

function leaseRows(leases: Lease[]): string {
  return table(
    ['KEY', 'MODE', 'TOKEN', 'OWNER', 'EXPIRES'],
    leases.map((l) => [l.key, l.mode, l.token, l.owner, l.expiresAt === null ? 'with session' : when(l.expiresAt)]),
  );
}

const acquireUsage = 'baton lease acquire <key> [--owner <name>] [--shared] [--ttl <s>] [--timeout <s>] [--db <path>] [--json]';
const acquire: Action = {
  name: 'acquire',
  summary: 'take a lease on a key and print its fencing token',
  usage: acquireUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, owner: { type: 'string' }, shared: { type: 'boolean' }, ttl: { type: 'string' }, timeout: { type: 'string' } },
      acquireUsage,
    );
    if (values.help) {
      return printHelp(
        acquireUsage,
        `Takes a lease on <key> and prints it: key, token (the fencing token to present later), expiresAt.
The lease outlives this command: release it with 'baton lease release <key> --token <n>', or it lapses after --ttl.

  --owner <name>      who holds it (default: "<user>@<host> (baton lease acquire)")
  --shared            a shared lease (many holders, no exclusive one)
  --ttl <s>           lease time in seconds (default ${DEFAULT_LEASE_TTL_MS / 1000})
  --timeout <s>       how long to wait for a conflicting holder (default ${DEFAULT_ACQUIRE_TIMEOUT_MS / 1000}; 0: fail at once)

Exit 75 if the lease was not had in time (the message names the holder; for a path: key, the holder of
any overlapping reservation). On a terminal, a note on stderr says whom it waits for meanwhile.
`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], acquireUsage);
    const ttlMs = millis('--ttl', values.ttl, true);
    const timeoutMs = millis('--timeout', values.timeout);
    const mode = values.shared ? 'shared' : 'exclusive';
    return withCoordinator(values, async (c) => {
      const acquiring = c.acquire(key!, {
        owner: values.owner ?? cliOwner('baton lease acquire'),
        mode,
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      const lease = await waitingForLease(c, key!, mode, acquiring);
      if (values.json) printJson(lease);
      else process.stdout.write(showLease(lease));
      return ExitCode.ok;
    });
  },
};

const releaseUsage = 'baton lease release <key> --token <n> [--db <path>] [--json]';
const release: Action = {
  name: 'release',
  summary: 'release a lease you hold',
  usage: releaseUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, token: { type: 'string' } }, releaseUsage);
    if (values.help) {
      return printHelp(releaseUsage, `Releases the hold on <key> with fencing token --token. A token that no longer holds the key is refused (STALE_TOKEN, exit 1).\n\n  --token <n>   the lease's fencing token\n`);
    }
    const [key] = positionalArgs(positionals, ['key'], releaseUsage);
    const token = required('--token', integer('--token', values.token, { min: 1 }), releaseUsage);
    return withCoordinator(values, async (c) => {
      await c.release({ key: key!, token });
      if (values.json) printJson(null);
      else process.stdout.write(`released ${JSON.stringify(key)} (token ${token})\n`);
      return ExitCode.ok;
    });
  },
};

const renewUsage = 'baton lease renew <key> --token <n> [--ttl <s>] [--db <path>] [--json]';
const renew: Action = {
  name: 'renew',
  summary: 'extend a lease you hold',
  usage: renewUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, token: { type: 'string' }, ttl: { type: 'string' } }, renewUsage);
    if (values.help) {
      return printHelp(
        renewUsage,
        `Extends the lease on <key> to --ttl from now. Refused if the token no longer holds it (STALE_TOKEN) or it lapsed (LEASE_EXPIRED).\n\n  --token <n>   the lease's fencing token\n  --ttl <s>     new lease time in seconds from now (default ${DEFAULT_LEASE_TTL_MS / 1000})\n`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], renewUsage);
    const token = required('--token', integer('--token', values.token, { min: 1 }), renewUsage);
    const ttlMs = millis('--ttl', values.ttl, true);
    return withCoordinator(values, async (c) => {
      const lease = await c.renew({ key: key!, token }, ttlMs === undefined ? {} : { ttlMs });
      if (values.json) printJson(lease);
      else process.stdout.write(showLease(lease));
      return ExitCode.ok;
    });
  },
};

const listUsage = 'baton lease list [--prefix <p>] [--db <path>] [--json]';
const list: Action = {
  name: 'list',
  summary: 'list the leases held now',
  usage: listUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, prefix: { type: 'string' } }, listUsage);
    if (values.help) return printHelp(listUsage, `Lists the live leases: key, mode, token, owner, expiry.\n\n  --prefix <p>   only keys that start with <p>\n`);
    positionalArgs(positionals, [], listUsage);
    return withReader(values, async (c) => {
      const leases = await c.listLeases(values.prefix === undefined ? {} : { prefix: values.prefix });
      if (values.json) printJson(leases);
      else process.stdout.write(leases.length === 0 ? 'no leases held\n' : leaseRows(leases));
      return ExitCode.ok;
    });
  },
};

/** `held (exclusive)`, and for a path held only through other reservations, which. */
function headline(view: KeyView): string {
  if (view.free) return 'free';
  const mode = view.holders.some((h) => h.mode === 'exclusive') ? 'exclusive' : 'shared';
  const through = view.holders.some((h) => h.relation === 'this key') ? '' : ` through ${view.holders.length === 1 ? 'an overlapping reservation' : 'overlapping reservations'}`;
  return `held (${mode})${through}`;
}

const showUsage = 'baton lease show <key> [--db <path>] [--json]';
const show: Action = {
  name: 'show',
  summary: 'who holds a key (for a path, any overlapping reservation) and who waits',
  usage: showUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, showUsage);
    if (values.help) {
      return printHelp(
        showUsage,
        `Shows the holders of <key> and the callers waiting for it. For a path:<pattern> key, also every reservation
whose paths overlap it, and how (covers it, inside it, overlaps it, same paths): "free" only when an
exclusive acquire would not wait. --json: { key, holders, waiters, free }, each holder with its relation.
`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], showUsage);
    return withReader(values, async (c) => {
      const view = await viewKey(c, key!);
      if (values.json) {
        printJson(view);
        return ExitCode.ok;
      }
      let out = `${JSON.stringify(view.key)}: ${headline(view)}\n`;
      if (view.holders.length > 0) {
        const rows = table(
          ['KEY', 'MODE', 'TOKEN', 'OWNER', 'EXPIRES', ...(view.key.startsWith(PATH_PREFIX) ? ['RELATION'] : [])],
          view.holders.map((h) => [h.key, h.mode, h.token, h.owner, h.expiresAt === null ? 'with session' : when(h.expiresAt), ...(view.key.startsWith(PATH_PREFIX) ? [h.relation] : [])]),
        );
        out += `holders:\n${indent(rows)}`;
      }
      if (view.waiters.length > 0) {
        out += `waiters:\n${indent(table(['KEY', 'OWNER', 'MODE', 'SINCE'], view.waiters.map((w) => [w.key, w.owner, w.mode, when(w.since)])))}`;
      }
      process.stdout.write(out);
      return ExitCode.ok;
    });
  },
};

const forceUsage = 'baton lease force-release <key> [--token <n>] [--reason <r>] [--db <path>] [--json]';
const forceRelease: Action = {
  name: 'force-release',
  summary: 'end every hold on a key (administrative)',
  usage: forceUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, token: { type: 'string' }, reason: { type: 'string' } }, forceUsage);
    if (values.help) {
      return printHelp(
        forceUsage,
        `Ends every hold on <key>, or only the one with --token, whoever holds it. Their holders learn of it when they next\npresent their token (STALE_TOKEN). Prints how many holds ended (--json: the number).\n\n  --token <n>    only the hold with this fencing token\n  --reason <r>   recorded in the lease.released event (default "forced")\n`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], forceUsage);
    const token = integer('--token', values.token, { min: 1 });
    return withCoordinator(values, async (c) => {
      const n = await c.forceRelease(key!, { by: localActor(), ...(token === undefined ? {} : { token }), ...(values.reason === undefined ? {} : { reason: values.reason }) });
      if (values.json) printJson(n);
      else process.stdout.write(`released ${n} hold${n === 1 ? '' : 's'} on ${JSON.stringify(key)}\n`);
      return ExitCode.ok;
    });
  },
};

export const leaseCommand = group('lease', 'named leases with fencing tokens (acquire, release, renew, list, show)', [acquire, release, renew, list, show, forceRelease]);
