// The conformance suite through a real daemon over PostgreSQL (`baton serve
// --store postgres://...`) and the client SDK: the same contract as on SQLite.
import { join } from 'node:path';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { conformance } from '../engine/conformance.ts';
import { startDaemon } from '../../support/daemon.ts';
import { postgresPerFile } from '../../support/postgres.ts';

const postgres = postgresPerFile('baton-pg-daemon-');
const dir = postgres.dir;
let n = 0;

conformance('daemon on postgres', async () => {
  const stateDir = join(dir, `state-${n++}`);
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--store', await postgres.databases.fresh()] });
  const client = new RemoteCoordinator({ socketPath: daemon.record.socket! });
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    await daemon.stop();
  };
  return client;
});
