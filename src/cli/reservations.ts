// Path reservations from the shell, in the one namespace the agents use:
// `baton run --reserve <glob>` holds `path:<glob>` leases (what MCP's
// reserve_paths takes) for its command's lifetime, and `--lock` warns when a
// reservation covers the path it locks, since a lock file does not wait for
// reservations, nor they for it.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Coordinator, Lease, LeaseMode } from '../coordinator.ts';
import { normalizePathPattern, pathPatternFor } from '../engine/paths.ts';
import { PATH_PREFIX } from '../limits.ts';
import { UsageError, warningLine } from './command.ts';
import { describeHolders, viewKey, waitingForLease } from './lease-holders.ts';

/** A path relative to the project root, '/'-separated, or undefined when it lies outside. */
function inProject(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * A --reserve argument as the project's path pattern. Relative to the working
 * directory, as git's pathspecs are (`--reserve login.ts` in src/auth is
 * src/auth/login.ts); leading `./` and `../` are applied to it, and an
 * absolute path must lie in the project. Invalid patterns are INVALID_ARGUMENT.
 */
export function reservePattern(arg: string, root: string, cwd = process.cwd()): string {
  if (arg === '') throw new UsageError('--reserve must name a path or glob, got ""');
  const leaves = (): UsageError => new UsageError(`--reserve ${JSON.stringify(arg)} leaves the project at ${root}`);
  let pattern: string;
  if (isAbsolute(arg)) {
    const rel = inProject(root, arg);
    if (rel === undefined) throw leaves();
    pattern = rel;
  } else {
    const base = inProject(root, resolve(cwd))?.split('/') ?? [];
    const parts = arg.split('/');
    while (parts[0] === '.' || parts[0] === '..' || (parts[0] === '' && parts.length > 1)) {
      if (parts.shift() === '..' && base.pop() === undefined) throw leaves();
    }
    pattern = [...base.map(pathPatternFor), ...parts].join('/');
  }
  try {
    return normalizePathPattern(pattern);
  } catch (error) {
    throw new UsageError(`--reserve ${JSON.stringify(arg)} is not a path pattern: ${(error as Error).message}`);
  }
}

/**
 * Takes `path:<pattern>` for each pattern, bound to `sessionId` (no TTL: the
 * lease lives as long as the session), within `timeoutMs` in all. Patterns
 * are taken in sorted order (two shells reserving the same set cannot each
 * hold half); on failure those taken are given back and the error thrown.
 */
export async function takeReservations(
  c: Coordinator,
  patterns: string[],
  options: { sessionId: string; owner: string; mode: LeaseMode; timeoutMs: number },
): Promise<Lease[]> {
  const deadline = performance.now() + options.timeoutMs;
  const held: Lease[] = [];
  try {
    for (const pattern of [...new Set(patterns)].sort()) {
      const key = PATH_PREFIX + pattern;
      const left = Number.isFinite(deadline) ? Math.max(0, Math.round(deadline - performance.now())) : 2 ** 31 - 1;
      const acquiring = c.acquire(key, { owner: options.owner, mode: options.mode, sessionId: options.sessionId, ttlMs: 0, timeoutMs: left });
      held.push(await waitingForLease(c, key, options.mode, acquiring));
    }
    return held;
  } catch (error) {
    await releaseAll(c, held);
    throw error;
  }
}

export async function releaseAll(c: Coordinator, leases: Lease[]): Promise<void> {
  for (const lease of leases.splice(0)) await c.release(lease).catch(() => undefined);
}

/**
 * One line on stderr when a path reservation (not this session's) overlaps
 * `lockPath`: the lock file does not wait for it. Nothing when the path lies
 * outside the project. A failure to look is not worth a word.
 */
export async function warnIfReserved(c: Coordinator, lockPath: string, root: string, ownSession: string | undefined): Promise<void> {
  const rel = inProject(root, resolve(lockPath));
  if (rel === undefined) return;
  try {
    const view = await viewKey(c, PATH_PREFIX + pathPatternFor(rel));
    const others = view.holders.filter((h) => ownSession === undefined || h.sessionId !== ownSession);
    if (others.length === 0) return;
    process.stderr.write(warningLine(`${rel} is reserved by ${describeHolders(others)}; --lock does not wait for reservations: add --reserve ${lockPath} to wait for it`));
  } catch {
    // a warning we could not work out is not an error of the command
  }
}
