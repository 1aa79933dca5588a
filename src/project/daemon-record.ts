// daemon.json in the state directory: how clients find the running daemon.
import { readFileSync } from 'node:fs';
import { statePaths } from './state-dir.ts';

/** What `daemon.json` records while a daemon runs. */
export interface DaemonRecord {
  pid: number;
  version: string;
  startedAt: number;
  stateDir: string;
  root: string;
  socket: string | null;
  listen: string | null;
}

export function readDaemonRecord(stateDir: string): DaemonRecord | undefined {
  try {
    return JSON.parse(readFileSync(statePaths(stateDir).daemon, 'utf8')) as DaemonRecord;
  } catch {
    return undefined;
  }
}

/** Where a daemon answers, for messages: `<socket>`, `tcp <host:port>`, or both joined by "and". */
export function daemonAddress(record: Pick<DaemonRecord, 'socket' | 'listen'>): string {
  return [record.socket, record.listen === null ? null : `tcp ${record.listen}`].filter((where) => where !== null).join(' and ');
}
