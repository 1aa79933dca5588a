// The conformance suite through a real daemon over PostgreSQL (`baton serve
// --store postgres://...`) and the client SDK: the same contract as on SQLite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { conformance } from '../engine/conformance.ts';
import { startDaemon } from '../../support/daemon.ts';
import { Databases, startPostgres, type PgServer } from '../../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-pg-daemon-'));
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
let n = 0;

conformance('daemon on postgres', async () => {
  const stateDir = join(dir, `state-${n++}`);
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--store', await databases.fresh()] });
  const client = new RemoteCoordinator({ socketPath: daemon.record.socket! });
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    await daemon.stop();
  };
  return client;
});
