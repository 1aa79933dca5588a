// Emits JavaScript and .d.ts into dist/: what package.json's bin and exports point at. `npm install`
// runs it in a checkout (the prepare script), and npm pack before packing. Three parts: the
// Node code; baton/react (typed against the DOM, so its own tsconfig); the dashboard, built by
// Vite into dist/ui, which the daemon serves.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = `${root}/node_modules/typescript/bin/tsc`;
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', `${root}/tsconfig.build.json`], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [tsc, '-p', `${root}/tsconfig.react.build.json`], { stdio: 'inherit', cwd: root });
chmodSync(`${root}/dist/cli/bin.js`, 0o755);
execFileSync(process.execPath, [`${root}/node_modules/vite/bin/vite.js`, 'build', '--config', `${root}/ui/vite.config.ts`, '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });
