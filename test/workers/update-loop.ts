// Takes a lock n times in a tight loop, pauses, does it again, then exits at
// once (process.exit in the same turn as the last release). The pause lets the
// retention's backstop thread start, so the second loop retains its releases.
import { withLock } from '../../src/index.ts';

const [resource, times] = process.argv.slice(2) as [string, string];
let owner = '';
const loop = async (): Promise<void> => {
  for (let i = 0; i < Number(times); i++) await withLock(resource, (handle) => void (owner = handle.record.ownerId));
};
await loop();
await new Promise((resolve) => setTimeout(resolve, 200));
await loop();
process.stdout.write(`done ${owner}\n`);
process.exit(0);
