// baton release-request ask|list|decline|released: ask the holders of a key to
// release it, see the requests, and answer them (docs/messages.md, Release
// requests). The holder is told in its inbox (`baton msg inbox`); so is the
// asker, once the request is answered.
import type { ReleaseRequest, ReleaseRequestState } from '../coordinator.ts';
import { DEFAULT_LIST_LIMIT, DEFAULT_RELEASE_REQUEST_TTL_MS, MAX_LIST_LIMIT, RELEASE_REQUEST_STATES } from '../limits.ts';
import { ExitCode, UsageError, durationMs, integer, parse, positionalArgs, required } from './command.ts';
import { connectOptions, printHelp, withCoordinator } from './connect.ts';
import { group, type Action } from './group.ts';
import { printJson, table, when } from './output.ts';
import { userAtHost } from './owner.ts';

function rows(requests: ReleaseRequest[]): string {
  return table(
    ['ID', 'KEY', 'TOKEN', 'HOLDER', 'ASKER', 'STATE', 'WHEN', 'REASON'],
    requests.map((r) => [r.id, r.key, r.token, r.holder, r.asker, r.answer === null ? r.state : `${r.state}: ${r.answer}`, r.state === 'pending' ? `lapses ${when(r.expiresAt)}` : when(r.answeredAt), r.reason]),
  );
}

const isState = (value: string): value is ReleaseRequestState => (RELEASE_REQUEST_STATES as readonly string[]).includes(value);

const askUsage = 'baton release-request ask <key> --reason <text> [--from <name>] [--ttl <duration>] [--json]';
const ask: Action = {
  name: 'ask',
  summary: 'ask the holders of a key to release it',
  usage: askUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, reason: { type: 'string' }, from: { type: 'string' }, ttl: { type: 'string' } }, askUsage);
    if (values.help) {
      return printHelp(
        askUsage,
        `Asks every holder of <key> (for a path:<glob> key, every holder of an overlapping path) to release it:
one request per hold, each told in its inbox with your reason. Asking again while your request is
pending changes nothing. You are told in your inbox when each is answered: released (the hold ended,
however), declined (with the holder's reason), or lapsed (no answer within --ttl).

  --reason <text>       why you need it (required)
  --from <name>         who asks, as the holder and your inbox know you (default: "<user>@<host>")
  --ttl <duration>      lapse unanswered after this long: seconds, or 10m, 1h (default ${DEFAULT_RELEASE_REQUEST_TTL_MS / 60_000}m, at most 24h)
`,
      );
    }
    const [key] = positionalArgs(positionals, ['key'], askUsage);
    const reason = required('--reason', values.reason, askUsage);
    const ttlMs = durationMs('--ttl', values.ttl, true);
    return withCoordinator(values, async (c) => {
      const asked = await c.requestRelease(key!, { from: values.from ?? userAtHost(), reason, ...(ttlMs === undefined ? {} : { ttlMs }) });
      if (values.json) printJson(asked);
      else process.stdout.write(`asked ${asked.length === 1 ? '1 holder' : `${asked.length} holders`}; answers come to the inbox of ${JSON.stringify(asked[0]?.asker)}\n${rows(asked)}`);
      return ExitCode.ok;
    });
  },
};

const listUsage = 'baton release-request list [--key <key>] [--holder <name>] [--asker <name>] [--state <s>] [--limit <n>] [--json]';
const list: Action = {
  name: 'list',
  summary: 'release requests, newest first',
  usage: listUsage,
  async run(argv) {
    const options = { ...connectOptions, key: { type: 'string' }, holder: { type: 'string' }, asker: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } } as const;
    const { values, positionals } = parse(argv, options, listUsage);
    if (values.help) {
      return printHelp(
        listUsage,
        `Lists release requests, newest first. A pending request whose hold has ended, or whose time ran out,
is answered as it is listed (released, or lapsed), and its asker told, as the sweeper would.

  --key <key>       only requests about this held key
  --holder <name>   only requests to this holder
  --asker <name>    only requests from this asker
  --state <s>       ${RELEASE_REQUEST_STATES.join(', ')}
  --limit <n>       at most n (default ${DEFAULT_LIST_LIMIT})
`,
      );
    }
    positionalArgs(positionals, [], listUsage);
    const state = values.state;
    if (state !== undefined && !isState(state)) throw new UsageError(`--state must be one of ${RELEASE_REQUEST_STATES.join(', ')}, got ${JSON.stringify(state)}`, { help: 'baton release-request list' });
    const limit = integer('--limit', values.limit, { min: 1, max: MAX_LIST_LIMIT });
    const filter = {
      ...(values.key === undefined ? {} : { key: values.key }),
      ...(values.holder === undefined ? {} : { holder: values.holder }),
      ...(values.asker === undefined ? {} : { asker: values.asker }),
      ...(state === undefined ? {} : { state }),
      ...(limit === undefined ? {} : { limit }),
    };
    // A writing connection: listing answers requests that are due.
    return withCoordinator(values, async (c) => {
      const found = await c.releaseRequests(filter);
      if (values.json) printJson(found);
      else process.stdout.write(found.length === 0 ? 'no release requests\n' : rows(found));
      return ExitCode.ok;
    });
  },
};

function answer(name: 'decline' | 'released', answerWith: 'declined' | 'released', summary: string, help: string): Action {
  const usage = `baton release-request ${name} <id> --from <holder> [--reason <text>] [--json]`;
  return {
    name,
    summary,
    usage,
    async run(argv) {
      const { values, positionals } = parse(argv, { ...connectOptions, from: { type: 'string' }, reason: { type: 'string' } }, usage);
      if (values.help) return printHelp(usage, `${help}\n\n  --from <holder>   the holder the request asks, by that name (required)\n  --reason <text>   why, told to the asker\n`);
      const [idText] = positionalArgs(positionals, ['id'], usage);
      const id = required('<id>', integer('<id>', idText, { min: 1 }), usage);
      const from = required('--from', values.from, usage);
      return withCoordinator(values, async (c) => {
        const answered = await c.answerRelease(id, { from, answer: answerWith, ...(values.reason === undefined ? {} : { reason: values.reason }) });
        if (values.json) printJson(answered);
        else process.stdout.write(`release request ${answered.id} (${answered.key}, asked by ${answered.asker}): ${answered.state}; the asker is told\n`);
        return ExitCode.ok;
      });
    },
  };
}

const decline = answer('decline', 'declined', 'keep the key and tell the asker why', 'Declines a release request: you keep the key, and the asker is told (with --reason).');
const released = answer(
  'released',
  'released',
  'say you let go (after releasing)',
  "Records that you released the key (refused while you still hold it). Not needed: a request is answered\n'released' by itself once the hold ends, however it ends.",
);

export const releaseRequestCommand = group('release-request', 'ask the holder of a key to release it; see and answer the requests', [ask, list, decline, released]);
