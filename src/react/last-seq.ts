// Where the event log ends, for polling that must start before any stream
// ever opened (the stream's first block would have said). The daemon's status
// names it when it carries `lastEventSeq`; otherwise it is found with
// `events {after, limit: 1}`, which returns the first event after a seq:
// doubling steps, then halving, about 2 log2(seq) small reads, once.
import type { BatonEvent } from '../coordinator.ts';

type FirstAfter = (after: number) => Promise<BatonEvent | undefined>;

export async function findLastSeq(status: () => Promise<unknown>, firstAfter: FirstAfter): Promise<number> {
  const named = ((await status().catch(() => null)) as { lastEventSeq?: unknown } | null)?.lastEventSeq;
  if (typeof named === 'number' && Number.isSafeInteger(named) && named >= 0) return named;

  // lo: a seq that exists (or 0); hi: no event lies after it.
  let lo = 0;
  let step = 1024;
  for (;;) {
    const next = await firstAfter(lo + step);
    if (next === undefined) break;
    lo = next.seq;
    step *= 2;
  }
  let hi = lo + step;
  for (;;) {
    const next = await firstAfter(lo);
    if (next === undefined) return lo;
    lo = next.seq;
    if (lo >= hi) return lo;
    const mid = Math.floor((lo + hi) / 2);
    const above = await firstAfter(mid);
    if (above === undefined) hi = mid;
    else lo = above.seq;
  }
}
