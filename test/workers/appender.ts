// Appends `count` JSON lines of about `size` bytes each.
import { appendJsonLines } from '../../src/index.ts';

const [file, id, count, size] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  await appendJsonLines(file!, { id, i, pad: 'x'.repeat(Number(size)) });
}
process.stdout.write('done\n');
