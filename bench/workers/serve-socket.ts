// The anchor servers' common end: listen on a unix socket (a stale file
// removed first), print 'ready', and on SIGTERM close and remove the socket.
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';

export function serveOnSocket(server: Server, socketPath: string): void {
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => process.stdout.write('ready\n'));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    rmSync(socketPath, { force: true });
  });
}
