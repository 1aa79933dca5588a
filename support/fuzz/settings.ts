// How long and from where the fuzzer runs: a fixed seed by default (so a
// failure in `npm test` is the same failure on every machine), a time budget
// shared among the properties, and the environment to change either:
//   BATON_FUZZ_SEED     the seed (fast-check prints it, with the path, on failure)
//   BATON_FUZZ_PATH     replay one counterexample (with its seed)
//   BATON_FUZZ_SECONDS  the time budget, shared among the properties by their share
//   BATON_FUZZ_RUNS     runs per property (without SECONDS: no time limit)
//   BATON_FUZZ_ONLY     comma-separated words: only the properties whose name holds one
import * as fc from 'fast-check';
import type { FuzzProperty } from './properties.ts';

export const DEFAULT_SEED = 20_250_611;

export interface FuzzSettings {
  seed: number;
  path: string | undefined;
  /** The whole budget, or undefined for none (runs bound it). */
  seconds: number | undefined;
  runs: number | undefined;
  only: string[];
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

export function fuzzSettings(env: NodeJS.ProcessEnv, defaults: { seconds: number; seed?: number }): FuzzSettings {
  const seed = env.BATON_FUZZ_SEED === undefined || env.BATON_FUZZ_SEED === '' ? (defaults.seed ?? DEFAULT_SEED) : Number(env.BATON_FUZZ_SEED);
  if (!Number.isSafeInteger(seed)) throw new Error(`BATON_FUZZ_SEED must be an integer, got ${JSON.stringify(env.BATON_FUZZ_SEED)}`);
  const runs = positive(env, 'BATON_FUZZ_RUNS');
  const seconds = positive(env, 'BATON_FUZZ_SECONDS') ?? (runs === undefined ? defaults.seconds : undefined);
  const only = (env.BATON_FUZZ_ONLY ?? '').split(',').map((w) => w.trim()).filter((w) => w !== '');
  return { seed, path: env.BATON_FUZZ_PATH || undefined, seconds, runs: runs === undefined ? undefined : Math.floor(runs), only };
}

/** The properties the settings select, each with its part of the time budget in ms (undefined: no limit). */
export function planned(properties: FuzzProperty[], settings: FuzzSettings): Array<{ property: FuzzProperty; budgetMs: number | undefined }> {
  const chosen = settings.only.length === 0 ? properties : properties.filter((p) => settings.only.some((w) => p.name.includes(w)));
  const shares = chosen.reduce((sum, p) => sum + p.share, 0);
  return chosen.map((property) => ({ property, budgetMs: settings.seconds === undefined ? undefined : Math.round((settings.seconds * 1000 * property.share) / shares) }));
}

/** fast-check's parameters for one property: the seed (and path), runs, and the time limit. */
export function checkParameters(settings: FuzzSettings, budgetMs: number | undefined): fc.Parameters<[unknown]> {
  return {
    seed: settings.seed,
    ...(settings.path === undefined ? {} : { path: settings.path }),
    numRuns: settings.runs ?? 1_000_000,
    includeErrorInReport: true,
    ...(budgetMs === undefined ? {} : { plugins: [fc.interruptAfterTimeLimit(budgetMs)] }),
  };
}

/** Runs one property; throws fast-check's report (seed, path, shrunk counterexample, the error) on failure. Returns the runs made. */
export async function checkProperty(property: fc.IAsyncProperty<[unknown]>, parameters: fc.Parameters<[unknown]>): Promise<number> {
  const details = await fc.check(property, parameters);
  if (details.failed) throw new Error(fc.defaultReportMessage(details));
  return details.numRuns;
}
