// Daemons as nodes. Each daemon registers a node and heartbeats it; a session
// attached to a daemon (bound to its client's connection) names the node. A
// daemon killed outright cannot end its sessions, so the sweep of any other
// process does once the node's heartbeat lapses: their leases and claims come
// back within the node TTL plus one sweep, with no human and no hours-long lock.
import { randomUUID } from 'node:crypto';
import { hostIdentity } from '../files/process-info.ts';
import type { StoreTx } from '../stores/store.ts';

export interface NodeInfo {
  id: string;
  name: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  ttlMs: number;
}

interface NodeRow {
  [column: string]: unknown;
  id: string;
  name: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  ttl_ms: number;
}

export async function registerNode(tx: StoreTx, name: string, ttlMs: number): Promise<string> {
  const id = randomUUID();
  tx.defer('nodeInsert', { id, name, host: hostIdentity().hostname, pid: process.pid, now: tx.now, ttlMs });
  return id;
}

/** False when the node is gone (ended): its sessions were ended with it. */
export async function heartbeatNode(tx: StoreTx, id: string): Promise<boolean> {
  return (await tx.run('nodeHeartbeat', { id, now: tx.now })).changes > 0;
}

export async function endNode(tx: StoreTx, id: string): Promise<void> {
  tx.defer('nodeEnd', { id, now: tx.now });
}

/** The session now lives and dies with this node (a client attached to its daemon). */
export async function bindSession(tx: StoreTx, sessionId: string, nodeId: string): Promise<boolean> {
  return (await tx.run('sessionSetNode', { id: sessionId, nodeId })).changes > 0;
}

export async function listNodes(tx: StoreTx): Promise<NodeInfo[]> {
  return (await tx.all<NodeRow>('nodeList')).map((r) => ({ id: r.id, name: r.name, host: r.host, pid: r.pid, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, ttlMs: r.ttl_ms }));
}
