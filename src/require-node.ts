// Imported first by each package entry (baton, baton/client, baton/testing):
// ESM evaluates a module's imports in order, so on an older Node this throws
// the one line that says which Node is needed before any other module of the
// package runs. (The entries' static imports must also link there: none may
// reach node:sqlite, which src/engine/open.ts loads when a store is opened.)
import { assertSupportedNode } from './node-version.ts';

assertSupportedNode();
