// The daemon's idle collection (src/server/idle-gc.ts): after a burst, once
// requests stop, the heap is collected instead of staying at its high-water mark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { collectWhenIdle } from '../../src/server/idle-gc.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const usedMb = (): number => getHeapStatistics().used_heap_size / 2 ** 20;

/** Leaves about 40 MB of garbage in the old generation (it survived scavenges), which V8 collects only under pressure or much later. */
async function burst(): Promise<void> {
  let kept: Array<{ n: number; s: string }[]> = [];
  for (let i = 0; i < 40; i++) {
    kept.push(Array.from({ length: 10_000 }, (_, n) => ({ n, s: `item ${n}` })));
    if (i % 8 === 0) await sleep(1); // let scavenges promote what is kept
  }
  await sleep(20);
  kept = [];
}

test('once requests stop, the idle collector frees the garbage a burst left; without it the garbage stays', async () => {
  let last = performance.now();
  const collector = collectWhenIdle(() => last, 100);
  try {
    // Without a touch: nothing collects the garbage in the next 400 ms.
    await burst();
    const left = usedMb();
    await sleep(400);
    assert.ok(usedMb() > left - 10, `the heap shrank from ${left.toFixed(1)} to ${usedMb().toFixed(1)} MB without the collector: this test shows nothing here`);
    // A request, then quiet: one collection.
    last = performance.now();
    collector.touch();
    await sleep(400);
    assert.ok(usedMb() < left - 20, `the heap is ${usedMb().toFixed(1)} MB, ${left.toFixed(1)} MB before the idle collection`);
  } finally {
    collector.stop();
  }
});
