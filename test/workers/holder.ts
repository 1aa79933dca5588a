// Takes a lock and holds it until killed (or for --hold ms); reports losing it.
import { parseArgs } from 'node:util';
import { acquireLock } from '../../src/index.ts';

const { values, positionals } = parseArgs({
  options: { ttl: { type: 'string' }, shared: { type: 'boolean' }, hold: { type: 'string' }, timeout: { type: 'string' } },
  allowPositionals: true,
});
process.stdout.write('waiting\n');
const result = await acquireLock(positionals[0]!, {
  type: values.shared ? 'shared' : 'exclusive',
  ttl: values.ttl ? Number(values.ttl) : undefined,
  timeout: values.timeout ? Number(values.timeout) : 30_000,
});
if (!result.success) {
  process.stdout.write(`failed ${result.reason} ${result.message}\n`);
  process.exit(3);
}
const handle = result.handle;
handle.signal.addEventListener('abort', () => {
  process.stdout.write(`lost ${(handle.signal.reason as Error).message}\n`);
});
process.stdout.write(`held ${Date.now()}\n`);
const hold = values.hold ? Number(values.hold) : 600_000;
setTimeout(async () => {
  process.stdout.write(`isHeld ${handle.isHeld()}\n`);
  await handle.release();
  process.stdout.write('released\n');
}, hold);
