// One of many processes that want the same provider credential at once, for
// the refresh-race test and the auth bench. Prints 'ready' once open, waits
// for a line on stdin, then asks for the credential and prints
//   {"ok":true,"token":"<access token>","expiresAt":...}  or  {"ok":false,"code":"...","message":"..."}
// With a count (third argument) it asks that many times and prints {"ok":true,"calls":n,"ms":...}.
// Usage: credential-agent.ts sqlite:<db file> | socket:<path> [count]
import { createInterface } from 'node:readline';
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { Coordinator } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/index.ts';

const [where = '', countArg] = process.argv.slice(2);
const c: Coordinator = where.startsWith('socket:') ? new RemoteCoordinator({ socketPath: where.slice('socket:'.length) }) : await openCoordinator({ url: where });
const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
// What a refresh needs, loaded before the start line: the race is between the calls, not the imports.
await import('../../src/credentials/oauth.ts');
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
try {
  if (countArg === undefined) {
    const credential = await c.credential('gemini');
    say({ ok: true, token: credential.token, expiresAt: credential.expiresAt });
  } else {
    const count = Number(countArg);
    const started = performance.now();
    for (let i = 0; i < count; i += 1) await c.credential('gemini');
    say({ ok: true, calls: count, ms: performance.now() - started });
  }
} catch (error) {
  const e = error as { code?: string; message?: string };
  say({ ok: false, code: e.code, message: e.message });
} finally {
  lines.close();
  await c.close();
}
