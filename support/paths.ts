// Where the repository and the baton CLI's entry are, for the processes that
// tests, benchmarks and scripts start.
import { join } from 'node:path';

export const root = new URL('../', import.meta.url).pathname;
export const cli = join(root, 'src/cli/main.ts');
