// The conformance suite on a SQLite file, as many processes would share it.
import { mkdtempSync, rmSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { conformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
conformance('sqlite file', () => openCoordinator({ url: `sqlite:${join(dir, `db-${n++}.sqlite`)}` }));
