#!/usr/bin/env node
// The `baton` command's launcher (package.json's bin). ESM links every static
// import before any code runs, so on an older Node the real entry (main.ts,
// which reaches node:sqlite) would die with ERR_UNKNOWN_BUILTIN_MODULE before a
// check could speak. This file imports only what old Node loads, checks the
// version, then imports main.ts. On an older Node inside a checkout that has
// its pinned Node (the `node` dev dependency), it runs itself again under
// that Node, so `npm link` works where the system Node is older.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unsupportedNode } from '../node-version.ts';
import { runChild } from './child.ts';

/** The checkout's pinned Node (node_modules/node, beside src/ and dist/), unless missing or the one running now. */
function pinnedNode(): string | undefined {
  const path = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));
  try {
    // Compared by real path: the pinned Node running this same file again must not start itself once more.
    return realpathSync(path) === realpathSync(process.execPath) ? undefined : path;
  } catch {
    return undefined;
  }
}

const problem = unsupportedNode();
if (problem === undefined) {
  await import('./main.ts');
} else {
  const pinned = pinnedNode();
  if (pinned === undefined) {
    process.stderr.write(`${problem}\n`);
    process.exitCode = 1;
  } else {
    // Its exit code comes back as ours (128+N if killed by signal N); SIGTERM and SIGHUP are passed on.
    process.exitCode = await runChild(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], `the pinned Node.js ${pinned}`);
  }
}
