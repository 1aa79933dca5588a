// Ending a generation (one holder's tenure at R.lock): the one race-free way
// to take R.lock away, used by release, reclaim and forced removal alike;
// and clearing what dead processes left behind.
import { linkSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errnoCode, fsError } from '../../errors.ts';
import { contenderGone, ignore, listDir, privateName, readRecordFile, removeIfEmpty, type LockPaths } from './disk.ts';
import { judgeRecord, OWNER_ID } from './record.ts';
import { dropIfGone } from './waker.ts';

/**
 * Ends the generation of `ownerId` on behalf of `winnerId`. Returns true if
 * this call won and removed R.lock, false if someone else already had.
 */
export function endGeneration(paths: LockPaths, ownerId: string, winnerId: string, recovering = false): boolean {
  const endName = `${paths.lockPath}.${ownerId}.end.${winnerId}`;
  try {
    renameSync(privateName(paths, ownerId), endName);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return recovering ? false : endOrphan(paths, ownerId, winnerId);
    throw fsError(error, 'end lock', paths.lockPath);
  }
  finishEnd(paths, endName);
  return true;
}

/**
 * Whether the process that won the right to end a generation is provably
 * gone, so the right may pass on. A winner that is the owner itself (a
 * release) has its record at the end name; any other winner keeps its own
 * private record until it has finished.
 */
function winnerGone(paths: LockPaths, ownerId: string, winner: string, endPath: string): boolean {
  const file = readRecordFile(winner === ownerId ? endPath : privateName(paths, winner));
  if (file === undefined) return winner !== ownerId; // a winner finishes before it drops its record
  if (file.record === null) return false;
  const verdict = judgeRecord(file.record, file.mtimeMs);
  // Proof of death on this host; elsewhere, a lease that ran out.
  return verdict.alive === false || (verdict.alive === null && verdict.stale);
}

function finishEnd(paths: LockPaths, endName: string): void {
  ignore(['ENOENT'], () => unlinkSync(paths.lockPath));
  ignore(['ENOENT'], () => unlinkSync(endName));
}

/**
 * The owner's private name is gone. Either someone is ending the generation
 * right now (an end name exists), or a winner died between its rename and
 * its unlink, or the private name was deleted by hand. The right to finish
 * passes on only through names that are never reused, so again exactly one
 * process finishes.
 */
function endOrphan(paths: LockPaths, ownerId: string, winnerId: string): boolean {
  const prefix = `${basename(paths.lockPath)}.${ownerId}.end.`;
  const ends = listDir(paths.dir).filter((name) => name.startsWith(prefix));
  const current = readRecordFile(paths.lockPath);
  if (current?.record?.ownerId !== ownerId) return false;
  for (const name of ends) {
    const previousWinner = name.slice(prefix.length);
    if (previousWinner === winnerId) {
      // Our own end that did not finish (an error between its rename and its
      // unlinks, or our backstop thread died there): the right is ours already.
      finishEnd(paths, join(paths.dir, name));
      return true;
    }
    if (!winnerGone(paths, ownerId, previousWinner, join(paths.dir, name))) return false;
    const mine = `${paths.lockPath}.${ownerId}.end.${winnerId}`;
    try {
      renameSync(join(paths.dir, name), mine);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw fsError(error, 'end lock', paths.lockPath);
    }
    finishEnd(paths, mine);
    return true;
  }
  if (ends.length > 0) return false;
  // No end name existed and R.lock was still this generation after we looked:
  // nobody holds the right to end it. Re-create the owner's private name from
  // R.lock (link is exclusive) and check it names this owner before using it.
  const restored = privateName(paths, ownerId);
  try {
    linkSync(paths.lockPath, restored);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return false;
    if (code !== 'EEXIST') throw fsError(error, 'end lock', paths.lockPath);
  }
  if (readRecordFile(restored)?.record?.ownerId !== ownerId) {
    // R.lock changed hands meanwhile: our new name points at the new holder's record; drop it.
    ignore(['ENOENT'], () => unlinkSync(restored));
    return false;
  }
  return endGeneration(paths, ownerId, winnerId, true);
}

/**
 * After a crash was proven, clears the files dead processes left behind:
 * private records and end names of generations that are over.
 */
export function sweepLitter(paths: LockPaths): void {
  const base = `${basename(paths.lockPath)}.`;
  // Read R.lock's owner again right before each deletion: the listing is slow,
  // and a contender may have become the holder (and died) since it began.
  const currentOwner = (): string | undefined => readRecordFile(paths.lockPath)?.record?.ownerId;
  for (const name of listDir(paths.dir)) {
    if (!name.startsWith(base)) continue;
    const rest = name.slice(base.length);
    const full = join(paths.dir, name);
    const end = rest.indexOf('.end.');
    try {
      if (end > 0) {
        if (rest.slice(0, end) !== currentOwner()) ignore(['ENOENT'], () => unlinkSync(full));
      } else if (OWNER_ID.test(rest) && contenderGone(readRecordFile(full), rest) && rest !== currentOwner()) {
        ignore(['ENOENT'], () => unlinkSync(full));
      }
    } catch {
      // Best effort: litter never blocks a lock.
    }
  }
  for (const id of listDir(paths.waitingDir)) {
    try {
      dropIfGone(paths, id);
    } catch {
      // Best effort.
    }
  }
  removeIfEmpty(paths.waitingDir);
}

