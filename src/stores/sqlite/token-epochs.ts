// Fencing tokens that never go backwards, even when a power loss rolls back
// committed transactions: a token is epoch * 2^20 + a counter, and every
// opener bumps a durable epoch before it issues one (docs/engine.md).
import type { DatabaseSync } from 'node:sqlite';
import { BatonError } from '../../errors.ts';
import { retryBusy } from './busy.ts';
import type { Statements } from './statements.ts';

/** Fencing tokens are epoch * 2^20 + a counter: a durable epoch bumped by every opener. */
const EPOCH_SPAN = 2 ** 20;

/**
 * A new epoch for this opener, committed durably before it hands out any
 * token. Leaves the connection at synchronous=FULL: the caller sets its own
 * durability afterwards.
 */
export async function bumpEpochOnOpen(db: DatabaseSync): Promise<number> {
  db.exec('PRAGMA synchronous = FULL');
  let bumped = 0;
  await retryBusy(() => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare(`SELECT value FROM meta WHERE key = 'epoch'`).get() as { value: string } | undefined;
      const epoch = (row ? Number(row.value) : 0) + 1;
      db.prepare(`INSERT INTO meta (key, value) VALUES ('epoch', $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run({ value: String(epoch) });
      db.exec('COMMIT');
      bumped = epoch;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  });
  return bumped;
}

/** One connection's epochs: the one its tokens are drawn from, and the newest it knows is durable. */
export class TokenEpochs {
  #epoch: number;
  #durableEpoch: number;

  constructor(openerEpoch: number) {
    this.#epoch = openerEpoch;
    this.#durableEpoch = openerEpoch;
  }

  /**
   * The next token after `last`, inside a write transaction. A bump of the
   * durable epoch marks `tx` durable: its commit is synced before it returns.
   */
  next(last: number, statements: Statements, tx: { durable: boolean }): number {
    let token = Math.max(last + 1, this.#epoch * EPOCH_SPAN);
    if (token >= (this.#durableEpoch + 1) * EPOCH_SPAN) {
      // Past the newest durable epoch's range: read it again, bump it if still needed.
      const row = statements.get<{ value: string }>('metaGet', { key: 'epoch' });
      this.#durableEpoch = Math.max(this.#durableEpoch, Number(row?.value ?? 1));
      if (token >= (this.#durableEpoch + 1) * EPOCH_SPAN) {
        this.#durableEpoch = Math.floor(token / EPOCH_SPAN);
        statements.run('metaSet', { key: 'epoch', value: String(this.#durableEpoch) });
        tx.durable = true;
      }
      this.#epoch = Math.max(this.#epoch, this.#durableEpoch);
      token = Math.max(last + 1, this.#epoch * EPOCH_SPAN);
    }
    if (!Number.isSafeInteger(token)) throw new BatonError('STORE_ERROR', `fencing token space exhausted (${token})`);
    return token;
  }

  /** An epoch bump was rolled back: believe the database again (the next token bumps it anew). */
  forgetBump(statements: Statements): void {
    const row = statements.get<{ value: string }>('metaGet', { key: 'epoch' });
    this.#durableEpoch = Number(row?.value ?? 1);
  }
}
