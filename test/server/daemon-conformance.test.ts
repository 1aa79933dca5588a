// The engine's conformance suite through a real daemon process and the client
// SDK over its unix socket: the remote Coordinator keeps the same contract.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { conformance } from '../engine/conformance.ts';
import { startDaemon } from '../../support/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-daemon-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

conformance('daemon', async () => {
  const stateDir = join(dir, `state-${n++}`);
  const daemon = await startDaemon(stateDir, { cwd: dir });
  const client = new RemoteCoordinator({ socketPath: daemon.record.socket! });
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    await daemon.stop();
  };
  return client;
});
