// Bringing a newly opened connection to the state the store runs in: its
// pragmas, the schema's migrations, this opener's fencing-token epoch, the
// WAL's size and the durability asked for. Other processes may be opening
// the same file at the same moment.
import type { DatabaseSync } from 'node:sqlite';
import type { Durability } from '../store.ts';
import { retryBusy } from './busy.ts';
import { migrations } from './schema.ts';
import { bumpEpochOnOpen } from './token-epochs.ts';

/** The WAL is checkpointed (and cut back) at this size. */
const WAL_CHECKPOINT_BYTES = 32 * 2 ** 20;

/** Sets the connection up; returns this opener's epoch. `newPageBytes` applies only to a database still empty. */
export async function setUpConnection(db: DatabaseSync, memory: boolean, durability: Durability, newPageBytes: number): Promise<number> {
  await retryBusy(() => {
    db.exec('PRAGMA busy_timeout = 0');
    // Takes effect only while the file is still empty.
    db.exec(`PRAGMA page_size = ${newPageBytes}`);
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
  });
  await migrate(db);
  const epoch = await bumpEpochOnOpen(db);
  if (!memory) {
    // A checkpoint copies each page changed since the last one once, and costs
    // two fsyncs whatever its size: SQLite's default (every 1000 pages, 4 MB
    // of 4 KiB pages) recopied the same hot task and index pages every few
    // hundred jobs. Every 32 MB of WAL was 9% more claim + complete throughput
    // over 100,000 jobs; the WAL file is cut back to that size after a
    // checkpoint that let it grow past it.
    await retryBusy(() => {
      const pageBytes = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
      db.exec(`PRAGMA wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / pageBytes)}`);
      db.exec(`PRAGMA journal_size_limit = ${WAL_CHECKPOINT_BYTES}`);
    });
  }
  db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  return epoch;
}

/** Migrations: each in its own write transaction, re-checked inside it (another process may have run it). */
async function migrate(db: DatabaseSync): Promise<void> {
  for (;;) {
    // Even a read can be SQLITE_BUSY here: another opener may be recovering the WAL (BUSY_RECOVERY)
    // or the last connection closing it; the bench met this with 8 processes opening at once.
    let applied = 0;
    await retryBusy(() => {
      applied = userVersion(db);
    });
    if (applied >= migrations.length) break;
    await retryBusy(() => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const version = userVersion(db);
        if (version < migrations.length) {
          db.exec(migrations[version]!);
          db.exec(`PRAGMA user_version = ${version + 1}`);
        }
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    });
  }
}

function userVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
}
