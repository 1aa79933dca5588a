// A client process that registers no tracer provider: acquires and releases
// through the daemon at argv[2], then prints which @opentelemetry modules were
// resolved on the way ("loaded: none" when the client paid nothing for tracing).
import { registerHooks } from 'node:module';

const loaded: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.includes('@opentelemetry')) loaded.push(specifier);
    return next(specifier, context);
  },
});
const { RemoteCoordinator } = await import('../../src/client/index.ts');
const c = new RemoteCoordinator({ socketPath: process.argv[2]! });
await c.release(await c.acquire('untraced/key', { owner: 'plain', ttlMs: 60_000 }));
await c.close();
process.stdout.write(`loaded: ${loaded.length === 0 ? 'none' : loaded.join(', ')}\n`);
