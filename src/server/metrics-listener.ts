// `baton serve --metrics-listen <host:port>`: a listener of its own for a
// Prometheus scraper, serving GET /metrics only, without credentials (a
// scraper rarely holds a bearer token, and the metrics carry no key, path or
// name). Bind it to loopback or a network only the scraper reaches; the API's
// own GET /metrics stays behind its authentication.
import { createServer, type Server } from 'node:http';
import { BatonError } from '../errors.ts';
import type { Logger } from './log.ts';
import type { DaemonMetrics } from './metrics.ts';

/** Listens; closed when `held` unwinds. Resolves to the address it got ("host:port"; port 0 picks one). */
export async function listenForMetrics(held: AsyncDisposableStack, at: { host: string; port: number }, metrics: DaemonMetrics, log: Logger): Promise<string> {
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000, keepAliveTimeout: 60_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('this listener serves GET /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end(`${req.method} is not allowed on /metrics\n`);
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        log.error('metrics scrape failed', { error: String(error) });
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the metrics could not be collected; see the daemon log\n');
      },
    );
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new BatonError('IO_ERROR', `cannot listen for metrics on ${at.host}:${at.port}: ${error.message}`, { cause: error })));
    server.listen(at.port, at.host, resolve);
  });
  held.defer(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  const where = typeof address === 'object' && address !== null ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : `${at.host}:${at.port}`;
  log.info('metrics listener', { listen: where });
  return where;
}
