// What MCP costs: the round trip reserve_paths + write_file + release_paths
// through `baton mcp` over stdio, next to the same sequence through the client
// SDK (RemoteCoordinator: acquire + writeFile + release), and where the
// difference goes: the same MCP server in this process over an in-memory
// pipe (no process hop, no stdio framing), a bare ping over each, and zod's
// input checks alone.
//
//   node scripts/measure-mcp.ts [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolRequestSchema, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createBatonServer, remoteBackend } from '../src/mcp/server.ts';
import { AgentState } from '../src/mcp/tools/agent.ts';
import { toolsByName } from '../src/mcp/tools/index.ts';
import { startDaemon } from '../support/daemon.ts';
import { cli } from '../support/paths.ts';

const rounds = Number(process.argv[2] ?? 200);
/** Rounds first run unmeasured, so both processes' code is compiled (baton mcp runs from source, type-stripped). */
const warmup = 100;

function stats(samples: number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99) };
}

const ms = (n: number) => `${n.toFixed(3).padStart(8)} ms`;

interface Sequence {
  /** One round: the three calls, each timed. */
  round(i: number): Promise<[number, number, number]>;
}

interface Samples {
  total: number[];
  calls: number[][];
}

/** Runs the sequences' rounds interleaved (one of each in turn), so drift in the machine's load hits all alike. */
async function measure(seqs: Sequence[]): Promise<Samples[]> {
  for (let i = 0; i < warmup; i++) for (const seq of seqs) await seq.round(i);
  const out = seqs.map(() => ({ total: [] as number[], calls: [[], [], []] as number[][] }));
  for (let i = 0; i < rounds; i++) {
    for (const [k, seq] of seqs.entries()) {
      const t = await seq.round(warmup + i);
      out[k]!.total.push(t[0] + t[1] + t[2]);
      t.forEach((x, j) => out[k]!.calls[j]!.push(x));
    }
  }
  return out;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<void> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError === true) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
}

function mcpSequence(client: Client, dir: string): Sequence {
  return {
    round: async (i) => {
      const path = `${dir}/file-${i % 16}.txt`;
      return [
        await timed(() => call(client, 'reserve_paths', { paths: [path] })),
        await timed(() => call(client, 'write_file', { path, content: `round ${i}\n` })),
        await timed(() => call(client, 'release_paths', { paths: [path] })),
      ];
    },
  };
}

async function repeat(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timed(fn));
  return out;
}

/** A tools/call that never reaches the daemon: refused by the input check (content missing). */
const refusedCall = (client: Client) => () => client.callTool({ name: 'write_file', arguments: { path: 'm/x.txt' } });

const root = mkdtempSync(join(tmpdir(), 'baton-measure-mcp-'));
execFileSync('git', ['init', '-q', root]);
const stateDir = join(root, '.git', 'baton');
const daemon = await startDaemon(stateDir, { cwd: root });
try {
  // 1. The client SDK, straight to the daemon.
  const sdk = daemon.client();
  const me = await sdk.register({ name: 'sdk-agent' });
  const direct: Sequence = {
    round: async (i) => {
      const path = `s/file-${i % 16}.txt`;
      let lease!: Awaited<ReturnType<typeof sdk.acquire>>;
      return [
        await timed(async () => (lease = await sdk.acquire(`path:${path}`, { owner: 'sdk-agent', sessionId: me.id, ttlMs: 0, timeoutMs: 0 }))),
        await timed(() => sdk.writeFile(path, `round ${i}\n`, lease)),
        await timed(() => sdk.release(lease)),
      ];
    },
  };

  // 2. The MCP server in this process, over an in-memory pipe, on its own client of the daemon.
  const inner = daemon.client();
  const agent = new AgentState(inner, { kind: 'mcp' }, 'in-process');
  const server = createBatonServer({ backend: remoteBackend(inner, root), agent, version: 'measure', defaultName: () => 'in-process' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const memory = new Client({ name: 'measure', version: '1' });
  await memory.connect(clientSide);

  // 3. baton mcp over stdio, as an agent runs it.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp', '--state-dir', stateDir, '--name', 'stdio-agent'], cwd: root, env, stderr: 'inherit' });
  const stdio = new Client({ name: 'measure', version: '1' });
  await stdio.connect(transport);

  const [direct_, inProcess, overStdio] = await measure([direct, mcpSequence(memory, 'm'), mcpSequence(stdio, 'n')]);
  if (direct_ === undefined || inProcess === undefined || overStdio === undefined) throw new Error('one sample set for each of the three sequences');
  const memoryPing = await repeat(rounds, () => memory.ping());
  const stdioPing = await repeat(rounds, () => stdio.ping());
  const memoryRefused = await repeat(rounds, refusedCall(memory));
  const stdioRefused = await repeat(rounds, refusedCall(stdio));

  // 4. The pieces: zod's checks of the three inputs, alone.
  const inputs: Array<[string, unknown]> = [['reserve_paths', { paths: ['m/file-1.txt'] }], ['write_file', { path: 'm/file-1.txt', content: 'round 1\n' }], ['release_paths', { paths: ['m/file-1.txt'] }]];
  const n = 20_000;
  let start = performance.now();
  for (let i = 0; i < n; i++) for (const [name, args] of inputs) toolsByName.get(name)!.input.parse(args);
  const zodUs = ((performance.now() - start) / n) * 1000;
  // The SDK's own zod checks of each JSON-RPC message: the request on the server, the result on the client.
  const request = { method: 'tools/call', params: { name: 'write_file', arguments: { path: 'm/file-1.txt', content: 'round 1\n' } } };
  const answer = { content: [{ type: 'text', text: '{"written":"m/file-1.txt","bytes":8,"under":"path:m/file-1.txt"}' }], structuredContent: { written: 'm/file-1.txt', bytes: 8, under: 'path:m/file-1.txt' } };
  start = performance.now();
  for (let i = 0; i < n; i++) {
    CallToolRequestSchema.parse(request);
    CallToolResultSchema.parse(answer);
  }
  const protocolUs = ((performance.now() - start) / n) * 1000;
  // And the JSON text of one answer, which MCP carries twice (text and structuredContent).
  start = performance.now();
  for (let i = 0; i < n; i++) JSON.stringify({ reserved: [{ path: 'm/file-1.txt', mode: 'exclusive', token: 1048577, expires: 'when you release it or disconnect' }], next: 'edit with write_file / delete_file / rename_file, commit with git_commit, then release_paths' });
  const jsonUs = ((performance.now() - start) / n) * 1000;

  const row = (label: string, s: number[]) => {
    const { median, p99 } = stats(s);
    return `${label.padEnd(44)}${ms(median)}${ms(p99)}`;
  };
  const lines = [
    `reserve_paths + write_file + release_paths, ${rounds} rounds after ${warmup} warm-up (one agent, one daemon, unix socket)`,
    '',
    `${''.padEnd(44)}${'median'.padStart(11)}${'p99'.padStart(11)}`,
    row('client SDK (acquire + writeFile + release)', direct_.total),
    row('MCP in process (in-memory pipe)', inProcess.total),
    row('MCP over stdio (baton mcp child)', overStdio.total),
    '',
    'per call, median:            reserve       write     release',
    ...([['client SDK', direct_], ['MCP in process', inProcess], ['MCP over stdio', overStdio]] as const).map(
      ([label, r]) => `  ${label.padEnd(24)}${r.calls.map((c) => ms(stats(c).median)).join('   ')}`,
    ),
    '',
    'no daemon in the loop:',
    row('  MCP ping, in-memory pipe', memoryPing),
    row('  MCP ping, stdio', stdioPing),
    row('  tools/call refused by zod, in-memory pipe', memoryRefused),
    row('  tools/call refused by zod, stdio', stdioRefused),
    `baton's zod input checks, all three calls: ${zodUs.toFixed(1)} µs`,
    `the SDK's zod checks of one tools/call request and its result: ${protocolUs.toFixed(1)} µs (x3 per round)`,
    `JSON of one reserve answer: ${jsonUs.toFixed(1)} µs`,
  ];
  console.log(lines.join('\n'));
  await stdio.close();
  await memory.close();
  await inner.close();
} finally {
  await daemon.stop();
  rmSync(root, { recursive: true, force: true });
}
