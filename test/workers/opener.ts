// Opens the database named on the command line, takes and releases one lease, and exits:
// many of these started at once race to open (and recover) one file. With `crash`, it
// writes for a while and then waits to be killed, leaving a WAL for the next opener to recover.
import { openCoordinator } from '../../src/index.ts';

const [db, mode] = process.argv.slice(2) as [string, string?];
const c = await openCoordinator({ url: `sqlite:${db}` });
if (mode === 'crash') {
  for (let i = 0; i < 300; i++) await c.release(await c.acquire(`k${i % 100}`, { owner: "crasher" }));
  process.stdout.write('written\n');
  setInterval(() => undefined, 1 << 30);
} else {
  await c.release(await c.acquire('k', { owner: `opener-${process.pid}` }));
  await c.close();
  process.stdout.write('opened\n');
}
