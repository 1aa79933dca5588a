// baton msg send|inbox|read|ack: messages between agents (docs/messages.md).
// Who you are: --from / --agent, else $BATON_AGENT, else <user>@<host> (the
// stable part of the owner the CLI takes leases under, src/cli/owner.ts).
import { fstatSync } from 'node:fs';
import type { InboxEntry, MessageImportance, MessageTarget } from '../coordinator.ts';
import { MAX_INBOX_LIMIT, MESSAGE_IMPORTANCES } from '../limits.ts';
import { ExitCode, UsageError, integer, parse, required } from './command.ts';
import { connectOptions, printHelp, withCoordinator, withReader } from './connect.ts';
import { group, type Action } from './group.ts';
import { ago, fields, printJson, table } from './output.ts';
import { userAtHost } from './owner.ts';

/** The name this command speaks as: the option, else $BATON_AGENT, else `<user>@<host>`. */
export function agentName(option: string | undefined): string {
  return option ?? (process.env.BATON_AGENT || undefined) ?? userAtHost();
}

const isImportance = (value: string): value is MessageImportance => (MESSAGE_IMPORTANCES as readonly string[]).includes(value);

/** Message ids as given: positive integers, or a usage error naming the one that is not. */
function ids(positionals: string[], usage: string): number[] {
  if (positionals.length === 0) throw new UsageError(`missing <id>\nusage: ${usage}`);
  return positionals.map((p) => integer('<id>', p, { min: 1 })!);
}

/** The body from stdin, when stdin is a pipe or a file (never a terminal, /dev/null or an inherited socket: those would wait or mean nothing). */
async function bodyFromStdin(explicit: boolean): Promise<string | undefined> {
  let piped = false;
  try {
    const stat = fstatSync(0);
    piped = stat.isFIFO() || stat.isFile();
  } catch {
    piped = false;
  }
  if (!piped && !explicit) return undefined;
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

function state(e: InboxEntry): string {
  return e.ackedAt !== null ? 'acked' : e.readAt !== null ? 'read' : 'unread';
}

function inboxTable(entries: InboxEntry[]): string {
  return table(
    ['ID', 'WHEN', 'FROM', 'IMPORTANCE', 'KIND', 'THREAD', 'STATE', 'SUBJECT'],
    entries.map((e) => [e.id, ago(e.at), e.from, e.importance, e.kind, e.thread, state(e), e.subject]),
  );
}

function showMessage(e: InboxEntry): string {
  const head = fields([['id', e.id], ['from', e.from], ['thread', e.thread], ['importance', e.importance], ['kind', e.kind], ['about', e.ref ?? undefined], ['sent', ago(e.at)], ['subject', e.subject]]);
  return `${head}\n${e.body === '' ? '(no body)' : e.body}\n`;
}

const sendUsage = 'baton msg send <agent...> | --holders <key> | --all  --subject <s> [--body <b> | stdin] [--thread <t>] [--importance <i>] [--from <name>] [--json]';
const send: Action = {
  name: 'send',
  summary: 'send a message to agents by name, to the holders of a key, or to all',
  usage: sendUsage,
  async run(argv) {
    const options = {
      ...connectOptions, subject: { type: 'string' }, body: { type: 'string' }, thread: { type: 'string' }, importance: { type: 'string' },
      holders: { type: 'string' }, all: { type: 'boolean' }, from: { type: 'string' },
    } as const;
    const { values, positionals } = parse(argv, options, sendUsage);
    if (values.help) {
      return printHelp(
        sendUsage,
        `Sends a message to each agent named (by the name its session registered, or its leases' owner), to
every holder of <key> (--holders; for path:<glob>, every holder of an overlapping path), or to every
live agent (--all). Each gets it once, in an inbox kept under its name across restarts. An unknown
name is refused, with the known names nearest it. The body is --body, else stdin when it is a pipe or
a file (--body - reads stdin always).

  --subject <s>        what it is about (required)
  --body <b>           the text; - for stdin
  --thread <t>         reply in this thread (m<id> of the message that started it)
  --importance <i>     ${MESSAGE_IMPORTANCES.join(', ')} (default normal); high and urgent are pointed out to MCP agents
  --from <name>        who sends (default: $BATON_AGENT, else "<user>@<host>")
`,
      );
    }
    const ways = [positionals.length > 0, values.holders !== undefined, values.all === true].filter(Boolean).length;
    if (ways !== 1) throw new UsageError(`name the recipients one way: agent names, --holders <key> or --all\nusage: ${sendUsage}`);
    const to: MessageTarget = values.all === true ? { all: true } : values.holders !== undefined ? { holdersOf: values.holders } : positionals.length === 1 ? { agent: positionals[0]! } : { agents: positionals };
    const subject = required('--subject', values.subject, sendUsage);
    const importance = values.importance;
    if (importance !== undefined && !isImportance(importance)) throw new UsageError(`--importance must be one of ${MESSAGE_IMPORTANCES.join(', ')}, got ${JSON.stringify(importance)}`, { help: 'baton msg send' });
    const body = values.body === '-' || values.body === undefined ? await bodyFromStdin(values.body === '-') : values.body;
    return withCoordinator(values, async (c) => {
      const sent = await c.sendMessage({
        from: agentName(values.from), to, subject,
        ...(body === undefined ? {} : { body }), ...(values.thread === undefined ? {} : { thread: values.thread }), ...(importance === undefined ? {} : { importance }),
      });
      if (values.json) printJson(sent);
      else process.stdout.write(`sent message ${sent.id} (thread ${sent.thread}) to ${sent.recipients.join(', ')}\n`);
      return ExitCode.ok;
    });
  },
};

const inboxUsage = 'baton msg inbox [--agent <name>] [--unread] [--thread <t>] [--after <id>] [--limit <n>] [--json]';
const inbox: Action = {
  name: 'inbox',
  summary: "an agent's messages, oldest first",
  usage: inboxUsage,
  async run(argv) {
    const options = { ...connectOptions, agent: { type: 'string' }, unread: { type: 'boolean' }, thread: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } } as const;
    const { values, positionals } = parse(argv, options, inboxUsage);
    if (values.help) {
      return printHelp(
        inboxUsage,
        `Lists the inbox of --agent (default: $BATON_AGENT, else "<user>@<host>"), oldest first, without marking
anything read: 'baton msg read <id>' shows a message's body and marks it read.

  --agent <name>   whose inbox
  --unread         only messages not read yet
  --thread <t>     only this thread
  --after <id>     only messages after this id (the next page)
  --limit <n>      at most n (default 50, at most ${MAX_INBOX_LIMIT})
`,
      );
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\nusage: ${inboxUsage}`);
    const after = integer('--after', values.after, { min: 0 });
    const limit = integer('--limit', values.limit, { min: 1, max: MAX_INBOX_LIMIT });
    const agent = agentName(values.agent);
    return withReader(values, async (c) => {
      const entries = await c.inbox(agent, {
        ...(values.unread ? { unread: true } : {}), ...(values.thread === undefined ? {} : { thread: values.thread }),
        ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }),
      });
      if (values.json) printJson(entries);
      else process.stdout.write(entries.length === 0 ? `no ${values.unread ? 'unread ' : ''}messages for ${JSON.stringify(agent)}\n` : inboxTable(entries));
      return ExitCode.ok;
    });
  },
};

const readUsage = 'baton msg read <id...> [--agent <name>] [--json]';
const read: Action = {
  name: 'read',
  summary: 'show messages in full and mark them read',
  usage: readUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' } }, readUsage);
    if (values.help) return printHelp(readUsage, 'Shows each message of your inbox (--agent, else $BATON_AGENT, else "<user>@<host>") in full, and marks it read.\n');
    const list = ids(positionals, readUsage);
    return withCoordinator(values, async (c) => {
      const entries = await c.readMessages(agentName(values.agent), list);
      if (values.json) printJson(entries);
      else process.stdout.write(entries.map(showMessage).join('\n'));
      return ExitCode.ok;
    });
  },
};

const ackUsage = 'baton msg ack <id...> [--agent <name>] [--json]';
const ack: Action = {
  name: 'ack',
  summary: 'acknowledge messages (done with them)',
  usage: ackUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...connectOptions, agent: { type: 'string' } }, ackUsage);
    if (values.help) return printHelp(ackUsage, 'Marks messages of your inbox acknowledged (and read). Acknowledging twice changes nothing. Acknowledged\nmessages are pruned with the events of their time; unacknowledged ones are kept.\n');
    const list = ids(positionals, ackUsage);
    return withCoordinator(values, async (c) => {
      const acked = await c.ackMessages(agentName(values.agent), list);
      if (values.json) printJson({ acked });
      else process.stdout.write(`acknowledged ${acked}${acked < list.length ? ` (${list.length - acked} already were)` : ''}\n`);
      return ExitCode.ok;
    });
  },
};

export const msgCommand = group('msg', 'messages between agents (send, inbox, read, ack)', [send, inbox, read, ack]);
