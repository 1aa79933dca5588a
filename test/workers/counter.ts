// Increments a JSON counter N times through JsonFile.update, printing each committed value.
import { JsonFile } from '../../src/index.ts';

const [file, count, fsync] = process.argv.slice(2);
const doc = new JsonFile<{ n: number }>(file!, { defaultValue: { n: 0 }, fsync: fsync === 'fsync', lock: { timeout: 60_000 } });
for (let i = 0; i < Number(count); i++) {
  const next = await doc.update((c) => ({ n: c.n + 1 }));
  if (process.env.PRINT_COMMITS) process.stdout.write(`committed ${next.n}\n`);
}
process.stdout.write('done\n');
