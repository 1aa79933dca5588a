// Who stands in the way of a lease key, as an acquire would see it: the key's
// own holders and, for a `path:` key, every reservation whose paths overlap
// it (covering it, inside it, or in part). `lease show`, the note while
// `lease acquire` waits, and `run`'s warnings all read it from here.
import type { Coordinator, Lease, LeaseMode, LeaseWaiter } from '../coordinator.ts';
import { pathRelation, type PathRelation } from '../engine/path-relation.ts';
import { PATH_PREFIX } from '../limits.ts';
import { notesShown, waitingNote } from './waiting.ts';

/** How a holder's key stands to the key asked about. */
export type Relation = 'this key' | 'same paths' | 'covers it' | 'inside it' | 'overlaps it';

export interface Holder extends Lease {
  relation: Relation;
}

export interface KeyView {
  /** The key as the engine keeps it (a path pattern normalized). */
  key: string;
  /** Holders of this key, then of every overlapping path reservation. */
  holders: Holder[];
  /** Callers waiting for this key, or for an overlapping reservation's key. */
  waiters: LeaseWaiter[];
  /** True when nothing is held there: an exclusive acquire would not wait. */
  free: boolean;
}

const WORDS: Record<Exclude<PathRelation, 'apart'>, Relation> = { same: 'same paths', covers: 'covers it', inside: 'inside it', overlaps: 'overlaps it' };

const isPath = (key: string): boolean => key.startsWith(PATH_PREFIX);

/** How `held` stands to `key`, or undefined when they do not meet. */
function relationOf(held: string, key: string): Relation | undefined {
  if (held === key) return 'this key';
  if (!isPath(held) || !isPath(key)) return undefined;
  const relation = pathRelation(held.slice(PATH_PREFIX.length), key.slice(PATH_PREFIX.length));
  return relation === 'apart' ? undefined : WORDS[relation];
}

/** The holders and waiters that stand in the way of `key` (its invalid form is refused by the engine, in its words). */
export async function viewKey(c: Coordinator, key: string): Promise<KeyView> {
  const own = await c.getLease(key);
  const holders: Holder[] = own.holders.map((l) => ({ ...l, relation: 'this key' }));
  const waiters = [...own.waiters];
  if (isPath(own.key)) {
    const others = new Set<string>();
    for (const lease of await c.listLeases({ prefix: PATH_PREFIX })) {
      if (lease.key === own.key) continue;
      const relation = relationOf(lease.key, own.key);
      if (relation === undefined) continue;
      holders.push({ ...lease, relation });
      others.add(lease.key);
    }
    // Who queues for an overlapping reservation queues ahead of a newcomer here too.
    for (const other of others) waiters.push(...(await c.getLease(other)).waiters.filter((w) => relationOf(w.key, own.key) !== undefined));
  }
  waiters.sort((a, b) => a.since - b.since);
  return { key: own.key, holders, waiters, free: holders.length === 0 };
}

/** The holders an acquire in `mode` would wait for. */
export function blocking(view: KeyView, mode: LeaseMode): Holder[] {
  return view.holders.filter((h) => mode === 'exclusive' || h.mode === 'exclusive');
}

/** `"agent-a" (exclusive on path:src/auth/**)`, as the engine words a holder; `and 2 more` after the first. */
export function describeHolders(holders: Lease[]): string {
  const first = holders[0];
  if (first === undefined) return 'nobody';
  const more = holders.length > 1 ? ` and ${holders.length - 1} more` : '';
  return `${JSON.stringify(first.owner)} (${first.mode} on ${first.key})${more}`;
}

/** How often the note looks again at who holds the key. */
const LOOK_EVERY_MS = 2000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Waits for `acquiring` (an acquire of `key` in `mode`). On a terminal, while
 * it waits, a note says who holds the key and for how long we have waited.
 */
export async function waitingForLease<T>(c: Coordinator, key: string, mode: LeaseMode, acquiring: Promise<T>): Promise<T> {
  if (!notesShown()) return acquiring;
  const note = waitingNote();
  let over = false;
  const look = async (): Promise<void> => {
    await pause(200);
    while (!over) {
      try {
        const holders = blocking(await viewKey(c, key), mode);
        if (!over) note.update(`${JSON.stringify(key)}, ${holders.length === 0 ? 'queued behind earlier callers' : `held by ${describeHolders(holders)}`}`);
      } catch {
        // the note is a courtesy: the acquire says what went wrong
      }
      await pause(LOOK_EVERY_MS);
    }
  };
  void look();
  try {
    return await acquiring;
  } finally {
    over = true;
    note.done();
  }
}
