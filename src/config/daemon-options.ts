// What `baton serve` takes from the configuration when it starts a daemon: the
// file, checked (a bad one stops the start with its line and reason), and the
// daemon's settings from the environment, else the file, else the defaults.
// serve's own flags are laid over these by serve.
import { effectiveConfig, valueOf, type Effective } from './effective.ts';
import { findConfig } from './load.ts';
import type { DaemonConfig } from './watch.ts';

export interface DaemonSettings {
  durability: 'normal' | 'full';
  maxQueue: number;
  maxBodyBytes: number;
  maxConnections: number;
  requestTimeoutMs: number;
  nodeTtlMs: number;
  drainGraceMs: number;
  metrics: boolean;
  accessLog: boolean;
  engine: { retention: { maxAgeMs: number; maxCount: number }; retry: { baseMs: number; maxMs: number } };
}

export function daemonSettings(effective: Effective): DaemonSettings {
  const v = <T>(key: string): T => valueOf<T>(effective, key);
  return {
    durability: v('daemon.durability'),
    maxQueue: v('daemon.max_queue'),
    maxBodyBytes: v('daemon.max_body'),
    maxConnections: v('daemon.max_connections'),
    requestTimeoutMs: v('daemon.request_timeout'),
    nodeTtlMs: v('daemon.node_ttl'),
    drainGraceMs: v('daemon.drain_grace'),
    metrics: v('daemon.metrics') === 'on',
    accessLog: v('daemon.access_log') === 'on',
    engine: {
      retention: { maxAgeMs: v('retention.events_max_age'), maxCount: v('retention.events_max_count') },
      retry: { baseMs: v('retry.base'), maxMs: v('retry.max') },
    },
  };
}

/** The configuration a daemon starts with, from --config, $BATON_CONFIG or `<root>/baton.toml`. */
export async function loadDaemonConfig(root: string, given: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ config: DaemonConfig; settings: DaemonSettings }> {
  const { path, file } = await findConfig(root, given, env);
  const effective = effectiveConfig(file, env);
  // A snapshot: the daemon adds the file's auth settings to its environment, and those must not read as overrides later.
  return { config: { path, effective, env: { ...env } }, settings: daemonSettings(effective) };
}
