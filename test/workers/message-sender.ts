// A client process of the daemon that sends messages to its peers once told
// to go (a line on stdin), printing each message it sent.
// Usage: message-sender.ts <socket path> <my name> <count> <peer,peer,...>
import { createInterface } from 'node:readline';
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { MessageTarget } from '../../src/coordinator.ts';

const [socketPath, me, count, peerList] = process.argv.slice(2) as [string, string, string, string];
const peers = peerList.split(',');
const c = new RemoteCoordinator({ socketPath });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close(); // else stdin keeps this process alive
for (let j = 0; j < Number(count); j++) {
  const one = peers[j % peers.length]!;
  // Every third message goes to two peers at once.
  const to: MessageTarget = j % 3 === 0 ? { agents: [one, peers[(j + 1) % peers.length]!] } : { agent: one };
  const sent = await c.sendMessage({ from: me, to, subject: `${me} #${j}`, body: `body of ${me} #${j}`, importance: j % 5 === 0 ? 'high' : 'normal' });
  process.stdout.write(`sent ${JSON.stringify({ id: sent.id, recipients: sent.recipients })}\n`);
}
await c.close();
process.stdout.write('done\n');
