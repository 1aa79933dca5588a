// The daemon's configuration while it runs: applied at start, then again each
// time baton.toml changes. A file that does not check is refused with its
// line and reason in the log, and the last good configuration stays in force;
// so does a file that disappears (an empty file is the way to say "nothing").
// Budgets, rate limits and the auth settings change at once; the daemon's
// limits, retry and retention are read at start, and a reload says which of
// those changed and wait for the next start.
//
// Editors save by writing a new file and renaming it over the old one, which
// ends a watch on the file itself, so the directory is watched; a slow poll
// of the file backs it up where directory events are not delivered (network
// and container file systems).
import { readFileSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { applyConfig, type ApplyReport } from './apply.ts';
import { authVariables, effectiveConfig, showSource, type Effective } from './effective.ts';
import { readConfig } from './load.ts';

/** Events for one save arrive in a burst: act once, this long after the last. */
const DEBOUNCE_MS = 100;
/** The poll that backs up the directory watch. */
const POLL_MS = 2_000;

export interface ConfigLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** What `baton serve` hands the daemon: the file and the configuration it started with. */
export interface DaemonConfig {
  path: string;
  effective: Effective;
  /** The environment as it was before the file's auth settings were added to it: what overrides the file. */
  env: NodeJS.ProcessEnv;
}

export interface ConfigWatch {
  /** Reads the file again now (the watch calls it; tests may too). */
  reload(): Promise<void>;
  close(): void;
}

function applied(report: ApplyReport): Record<string, unknown> {
  return { changed: report.changed, removed: report.removed, ...(report.left.length === 0 ? {} : { leftAsTheyAre: report.left }) };
}

/** Settings read only at start whose value the new file changes. */
function waitingForRestart(before: Effective, after: Effective): string[] {
  const out: string[] = [];
  for (const [key, next] of after.values) {
    if (next.setting.applies !== 'next start') continue;
    if (JSON.stringify(before.values.get(key)?.value) !== JSON.stringify(next.value)) out.push(`${key} (${showSource(next.source)})`);
  }
  return out;
}

export async function runConfig(config: DaemonConfig, context: { coordinator: Coordinator; stateDir: string; log: ConfigLog }): Promise<ConfigWatch> {
  const { coordinator, stateDir, log } = context;
  /** What the daemon started with: settings read only at start are compared against it. */
  const started = config.effective;
  let lastText: string | undefined;
  // The auth variables this daemon set itself (never one the environment gave).
  const setByFile = new Set<string>();
  const setAuth = (effective: Effective): void => {
    const wanted = authVariables(effective);
    for (const name of setByFile) if (!(name in wanted)) delete process.env[name];
    for (const [name, value] of Object.entries(wanted)) {
      if (config.env[name] !== undefined && config.env[name] !== '') continue;
      process.env[name] = value;
      setByFile.add(name);
    }
  };

  const readText = (): string | undefined => {
    try {
      return readFileSync(config.path, 'utf8');
    } catch {
      return undefined;
    }
  };

  if (started.file !== undefined) {
    // The text the start was checked from: an edit made since is seen by the first reload.
    lastText = started.file.text;
    setAuth(started);
    const report = await applyConfig(coordinator, started, stateDir);
    log.info('configuration applied', { file: config.path, ...applied(report) });
  }

  const reloadOnce = async (): Promise<void> => {
    const text = readText();
    if (text === lastText) return;
    if (text === undefined) {
      lastText = undefined;
      log.warn('configuration file is gone: the last configuration stays in force', { file: config.path });
      return;
    }
    let next: Effective;
    try {
      const file = await readConfig(config.path);
      if (file === undefined) return; // removed between the two reads: the next event says so
      next = effectiveConfig(file, config.env);
    } catch (error) {
      if (!(error instanceof BatonError)) throw error;
      lastText = text;
      // One line an editor can jump to: <file>:<line>: <reason>.
      log.warn(`configuration refused, the last good one stays in force: ${error.message}`, { ...error.details, code: error.code });
      return;
    }
    setAuth(next);
    const report = await applyConfig(coordinator, next, stateDir);
    // Only once applied: a store that failed mid-way is tried again at the next change.
    lastText = text;
    const restart = waitingForRestart(started, next);
    log.info('configuration reloaded', { file: config.path, ...applied(report), ...(restart.length === 0 ? {} : { appliesAtNextStart: restart }) });
  };

  // One reload at a time, in order; a failure is logged, never thrown at the watcher.
  let chain = Promise.resolve();
  const reload = (): Promise<void> =>
    (chain = chain.then(reloadOnce).catch((error: unknown) => {
      log.warn('configuration could not be applied', { file: config.path, error: error instanceof Error ? error.message : String(error) });
    }));

  let timer: NodeJS.Timeout | undefined;
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), DEBOUNCE_MS);
    timer.unref();
  };
  const name = basename(config.path);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(config.path), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) soon();
    });
    watcher.on('error', (error) => log.warn('configuration watch failed; polling', { file: config.path, error: error.message }));
  } catch (error) {
    log.warn('configuration directory cannot be watched; polling', { file: config.path, error: error instanceof Error ? error.message : String(error) });
  }
  const poll = (): void => soon();
  watchFile(config.path, { persistent: false, interval: POLL_MS }, poll);
  // An edit between the check at start and this watch would otherwise wait for the next one.
  soon();

  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
      unwatchFile(config.path, poll);
    },
  };
}
