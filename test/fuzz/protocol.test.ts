// Property-based fuzzing of the daemon's protocol (support/fuzz/): requests
// generated from the published OpenAPI document for every operation, then
// mutated, plus headers, URLs and malformed heads, sent to a real daemon over
// its unix socket and TCP. Invariants: never a 5xx, never a hang, every 4xx a
// JSON error, what must be refused is refused, what is accepted reads back
// unchanged, the state still reads, nothing is written outside the project.
// Seeded and bounded in time: BATON_FUZZ_SEED, BATON_FUZZ_SECONDS,
// BATON_FUZZ_RUNS, BATON_FUZZ_ONLY (support/fuzz/settings.ts); `npm run fuzz`
// runs the same properties for longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operationNames } from '../../src/protocol/operations.ts';
import { answerSummary, fuzzProperties, operationGroups } from '../../support/fuzz/properties.ts';
import { fuzzContext } from '../../support/fuzz/runs.ts';
import { checkParameters, checkProperty, fuzzSettings, planned } from '../../support/fuzz/settings.ts';
import { FuzzTarget, sqliteStore } from '../../support/fuzz/target.ts';

const settings = fuzzSettings(process.env, { seconds: 18 });

// Each store runs the same properties; a PostgreSQL store joins this list.
for (const store of [sqliteStore]) {
  test(`fuzzing the protocol (${store.name} store, seed ${settings.seed})`, async (t) => {
    const target = await FuzzTarget.open(store);
    t.after(() => target.close());
    const ctx = await fuzzContext(target, { deadlineMs: 10_000, waitCutMs: 500 });

    // Every operation of the table is published, and every published one is fuzzed.
    assert.deepEqual(ctx.operations.map((o) => o.name).sort(), [...operationNames].sort());
    assert.deepEqual(operationGroups(ctx.operations).flatMap(([, ops]) => ops.map((o) => o.name)).sort(), [...operationNames].sort());

    for (const { property, budgetMs } of planned(fuzzProperties(ctx.operations), settings)) {
      await t.test(property.name, async (s) => {
        await target.settle();
        const runs = await checkProperty(property.property(ctx), checkParameters(settings, budgetMs));
        s.diagnostic(`${runs} runs`);
      });
    }
    t.diagnostic(`${ctx.runs} runs, ${target.restarts} fresh daemons`);
    if (process.env.BATON_FUZZ_STATS === '1') for (const line of answerSummary(ctx)) t.diagnostic(line);
  });
}
