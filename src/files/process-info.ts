// Who we are and whether another process is still the one that wrote a record.
// A PID alone is not proof: PIDs are reused, so a record also carries the
// process start time (since boot) and the boot id.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, uptime, userInfo } from 'node:os';

export interface HostIdentity {
  hostname: string;
  /** Linux boot id; changes on every boot, so a record from an earlier boot is provably stale. */
  bootId: string | null;
  /** PID namespace (Linux); PIDs are only comparable inside one namespace. */
  pidNamespace: string | null;
  uid: number;
}

let cachedHost: HostIdentity | undefined;

export function hostIdentity(): HostIdentity {
  if (cachedHost === undefined) {
    cachedHost = {
      hostname: hostname(),
      bootId: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
      pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
      uid: typeof process.getuid === 'function' ? process.getuid() : readOrNull(() => userInfo().uid) ?? -1,
    };
  }
  return cachedHost;
}

function readOrNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat),
 * or null where /proc is not available. Undefined means the process does not
 * exist, or has exited and is a zombie waiting for its parent: it holds nothing.
 */
export function processStartTime(pid: number): number | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  const value = Number(rest[19]);
  return Number.isFinite(value) ? value : null;
}

export interface ProcessRef {
  pid: number;
  startTime: number | null;
}

let self: ProcessRef | undefined;

export function selfProcess(): ProcessRef {
  self ??= { pid: process.pid, startTime: processStartTime(process.pid) ?? null };
  return self;
}

export function processRef(pid: number): ProcessRef {
  return { pid, startTime: processStartTime(pid) ?? null };
}

/** True when the process exists and, where start times are known, is the same process. */
export function isProcessAlive(ref: ProcessRef): boolean {
  // This very process (a daemon checking its own waiters): no syscalls needed.
  if (ref.pid === process.pid) {
    const me = selfProcess();
    if (ref.startTime === null || me.startTime === null || ref.startTime === me.startTime) return true;
  }
  try {
    process.kill(ref.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as { code?: string }).code !== 'EPERM') return false;
  }
  const now = processStartTime(ref.pid);
  if (ref.startTime === null) return now !== undefined;
  if (now === undefined) return false;
  return now === null || now === ref.startTime;
}

/** Wall-clock time of the last boot, in ms since the epoch. */
export function bootTimeMs(): number {
  return Date.now() - uptime() * 1000;
}
