// baton limit take|set|status: token-bucket rate limits shared by every process.
import type { RateLimitStatus } from '../coordinator.ts';
import { ExitCode, UsageError, decimal, errorLine, millis, parse, positionalArgs, required } from './command.ts';
import { localActor } from './actor.ts';
import { duration, printJson, table } from './output.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';

function limitTable(statuses: RateLimitStatus[]): string {
  return table(
    ['KEY', 'RATE/S', 'BURST', 'AVAILABLE'],
    statuses.map((s) => [s.key, s.rate, s.burst, Math.round(s.available * 100) / 100]),
  );
}

/** --rate and --burst, both or neither. */
function spec(values: { rate?: string | undefined; burst?: string | undefined }, usage: string): { rate: number; burst: number } | undefined {
  const rate = decimal('--rate', values.rate, { positive: true });
  const burst = decimal('--burst', values.burst, { positive: true });
  if (rate === undefined && burst === undefined) return undefined;
  if (rate === undefined || burst === undefined) throw new UsageError(`give --rate and --burst together\nusage: ${usage}`);
  return { rate, burst };
}

const takeUsage = 'baton limit take <key> [--cost <n>] [--wait] [--timeout <s>] [--rate <r> --burst <b>] [--db <path>] [--json]';
const take: Action = {
  name: 'take',
  summary: 'take from a rate limit (exit 75 if not granted)',
  usage: takeUsage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...connectOptions, cost: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' } },
      takeUsage,
    );
    if (values.help) {
      return printHelp(
        takeUsage,
        `Takes --cost tokens from the bucket <key>. If they are there, exits 0 at once. If not: without --wait,
exits 75 and says when to retry (--json: {"granted":false,"retryAfterMs":...} on stdout); with --wait,
books its turn (callers are served in arrival order), sleeps until then, and exits 0.

  --cost <n>              tokens to take (default 1)
  --wait                  wait in line until granted
  --timeout <s>           wait at most this long (implies --wait); a longer wait exits 75 at once
  --rate <r> --burst <b>  create or change the limit first: <r> tokens per second, bucket of <b>
`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], takeUsage);
    const cost = decimal('--cost', values.cost, { positive: true });
    const timeoutMs = millis('--timeout', values.timeout);
    const limit = spec(values, takeUsage);
    const wait = values.wait === true || timeoutMs !== undefined;
    return withCoordinator(values, async (c) => {
      // A waiter stopped by a signal gives its booked tokens back.
      const abort = new AbortController();
      const stop = (): void => abort.abort(new Error('interrupted'));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const result = await c.take(key!, {
          wait,
          signal: abort.signal,
          ...(cost === undefined ? {} : { cost }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(limit ?? {}),
        });
        if (values.json) printJson(result);
        if (!result.granted) {
          if (!values.json) {
            process.stderr.write(errorLine(`rate limit ${JSON.stringify(key)} not granted: retry after ${duration(result.retryAfterMs)} (${result.retryAfterMs} ms)`, 'RATE_LIMITED'));
          }
          return ExitCode.notAcquired;
        }
        if (!values.json) process.stdout.write(result.waitedMs > 0 ? `granted after waiting ${duration(result.waitedMs)}\n` : 'granted\n');
        return ExitCode.ok;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  },
};

const setUsage = 'baton limit set <key> --rate <r> --burst <b> [--db <path>] [--json]';
const set: Action = {
  name: 'set',
  summary: 'create or change a rate limit',
  usage: setUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, rate: { type: 'string' }, burst: { type: 'string' } }, setUsage);
    if (values.help) {
      return printHelp(setUsage, `Creates or changes the limit <key>: --rate tokens per second, at most --burst at once after a quiet spell.\nA new bucket starts full.\n\n  --rate <r>    tokens per second (may be a fraction, e.g. 0.5)\n  --burst <b>   bucket size\n`);
    }
    const [key] = positionalArgs(positionals, ['key'], setUsage);
    const limit = required('--rate and --burst', spec(values, setUsage), setUsage);
    return withCoordinator(values, async (c) => {
      const status = await c.setRateLimit(key!, { ...limit, by: localActor() });
      if (values.json) printJson(status);
      else process.stdout.write(limitTable([status]));
      return ExitCode.ok;
    });
  },
};

const statusUsage = 'baton limit status [<key>] [--db <path>] [--json]';
const status: Action = {
  name: 'status',
  summary: 'rate limits and the tokens available now',
  usage: statusUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions }, statusUsage);
    if (values.help) return printHelp(statusUsage, 'Shows every rate limit (or only <key>): rate, burst, and the tokens in the bucket now (negative while callers wait in line).\n');
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}\nusage: ${statusUsage}`);
    const key = positionals[0];
    return withReader(values, async (c) => {
      const statuses = await c.rateLimitStatus(key);
      if (values.json) printJson(statuses);
      else process.stdout.write(statuses.length === 0 ? (key === undefined ? 'no rate limits\n' : `no rate limit ${JSON.stringify(key)}\n`) : limitTable(statuses));
      return ExitCode.ok;
    });
  },
};

export const limitCommand = group('limit', 'rate limits shared by every process (take, set, status)', [take, set, status]);
