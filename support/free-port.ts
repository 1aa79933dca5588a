// A loopback port that was free a moment ago (the kernel's pick), for a
// server a test or bench starts that cannot listen on port 0 itself
// (PostgreSQL, etcd, a metrics listener named in advance).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
