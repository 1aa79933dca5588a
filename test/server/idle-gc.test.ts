// The daemon's idle work (src/server/idle-gc.ts): once requests stop, it runs
// its idle callback and one full collection, instead of leaving a burst's
// garbage in a heap at its high-water mark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectWhenIdle } from '../../src/server/idle-gc.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A weak reference to garbage, made in a job of its own (a WeakRef keeps its target until its job ends). */
async function garbage(): Promise<WeakRef<object>> {
  const ref = new WeakRef({ payload: 'x'.repeat(1000) });
  await sleep(1);
  return ref;
}

test('once requests stop, the idle callback runs and a full collection frees garbage; while requests come, and after stop, neither', async () => {
  let last = performance.now();
  let idles = 0;
  // growthBytes 0: collect whatever the heap holds (the daemon waits for 8 MB).
  const collector = collectWhenIdle(() => last, { idleMs: 100, growthBytes: 0, onIdle: () => idles++ });
  try {
    const ref = await garbage();
    // Requests keep coming: no idle work yet.
    for (let i = 0; i < 6; i++) {
      last = performance.now();
      collector.touch();
      await sleep(40);
    }
    assert.equal(idles, 0);
    assert.notEqual(ref.deref(), undefined, 'V8 collected the garbage by itself: this test shows nothing here');
    // Then quiet: one idle callback, and the garbage is gone.
    await sleep(300);
    assert.equal(idles, 1);
    assert.equal(ref.deref(), undefined, 'the idle collection freed the garbage');
    // Stopped: a request no longer arms it.
    collector.stop();
    last = performance.now();
    collector.touch();
    await sleep(300);
    assert.equal(idles, 1);
  } finally {
    collector.stop();
  }
});
