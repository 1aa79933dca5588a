// One of many processes that want the same provider credential at once, for
// the refresh-race test and the auth bench. Prints 'ready' once open, waits
// for a line on stdin, then asks for the credential and prints
//   {"ok":true,"token":"<access token>","expiresAt":...}  or  {"ok":false,"code":"...","message":"..."}
// Usage: credential-agent.ts sqlite:<db file> | socket:<path>
import { createInterface } from 'node:readline';
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { Coordinator } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/index.ts';

const [where = ''] = process.argv.slice(2);
const c: Coordinator = where.startsWith('socket:') ? new RemoteCoordinator({ socketPath: where.slice('socket:'.length) }) : await openCoordinator({ url: where });
const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
// What a refresh needs, loaded before the start line: the race is between the calls, not the imports.
await import('../../src/credentials/oauth.ts');
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
try {
  const credential = await c.credential('gemini');
  say({ ok: true, token: credential.token, expiresAt: credential.expiresAt });
} catch (error) {
  const e = error as { code?: string; message?: string };
  say({ ok: false, code: e.code, message: e.message });
} finally {
  lines.close();
  await c.close();
}
