// Emits JavaScript and .d.ts into dist/: what package.json's bin and exports point at. `npm install`
// runs it in a checkout (the prepare script), and npm pack before packing.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.build.json`], { stdio: 'inherit', cwd: root });
chmodSync(`${root}/dist/cli/bin.js`, 0o755);
