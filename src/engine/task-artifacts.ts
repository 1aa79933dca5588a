// Task artifacts (docs/artifacts.md): what a completion says it made, stored
// with the task in the completion's own transaction, so a task is done with
// all its artifacts or not done. Checked before the transaction: a bad one
// refuses the whole call, naming it. Each is one row: `value` is what finds
// it (a commit's sha, a file's path, a URL, a json value's sha256), `hash`
// a file's content hash, `meta` a json value's text.
import { createHash } from 'node:crypto';
import type { Artifact, Task, TaskStatus } from '../coordinator.ts';
import { MAX_ARTIFACT_JSON_BYTES, MAX_ARTIFACT_URL_LENGTH, MAX_LIST_LIMIT, MAX_PATH_LENGTH, MAX_TASK_ARTIFACTS, MIN_ARTIFACT_PREFIX } from '../limits.ts';
import { ARTIFACT_KINDS } from '../schema/artifacts.ts';
import type { StoreTx } from '../stores/store.ts';
import { completeTask, completeTasks } from './task-outcomes.ts';
import { taskFromRow, tasksByIds, type CheckedFilter, type Completion } from './tasks.ts';
import { invalid, requireString, show, toJson } from './validate.ts';

/** An artifact as stored: one row of task_artifacts, less its task and place. */
export interface StoredArtifact {
  kind: Artifact['kind'];
  value: string;
  hash: string | null;
  meta: string | null;
}

interface ArtifactRow extends StoredArtifact {
  [column: string]: unknown;
  task_id: number;
  seq: number;
}

const FIELDS: Record<Artifact['kind'], readonly string[]> = { commit: ['sha'], file: ['path', 'sha256'], url: ['url'], json: ['value'] };
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const SHA256 = /^[0-9a-f]{64}$/i;
const HEX = /^[0-9a-f]+$/i;

function hexField(at: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(`${at} must be ${what}, got ${show(value)}`);
  return value.toLowerCase();
}

function checkArtifact(item: unknown, at: string): StoredArtifact {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`${at} must be an artifact object { kind, ... }, got ${show(item)}`);
  const a = item as Record<string, unknown>;
  if (!(ARTIFACT_KINDS as readonly unknown[]).includes(a.kind)) throw invalid(`${at}.kind must be one of ${ARTIFACT_KINDS.join(', ')}, got ${show(a.kind)}`);
  const kind = a.kind as Artifact['kind'];
  for (const [name, value] of Object.entries(a)) {
    if (value !== undefined && name !== 'kind' && !FIELDS[kind].includes(name)) throw invalid(`${at}: a ${kind} artifact has no field ${JSON.stringify(name)}; it takes ${FIELDS[kind].join(', ')}`);
  }
  switch (kind) {
    case 'commit':
      return { kind, value: hexField(`${at}.sha`, a.sha, SHA, 'a full commit sha (40 or 64 hex digits)'), hash: null, meta: null };
    case 'file': {
      const path = requireString(`${at}.path`, a.path, { max: MAX_PATH_LENGTH });
      return { kind, value: path, hash: hexField(`${at}.sha256`, a.sha256, SHA256, "the sha256 of the file's content (64 hex digits)"), meta: null };
    }
    case 'url': {
      const url = requireString(`${at}.url`, a.url, { max: MAX_ARTIFACT_URL_LENGTH });
      if (!URL.canParse(url)) throw invalid(`${at}.url must be an absolute URL, got ${show(url)}`);
      return { kind, value: url, hash: null, meta: null };
    }
    case 'json': {
      if (a.value === undefined) throw invalid(`${at}.value is required: the JSON value the artifact carries`);
      const text = toJson(`${at}.value`, a.value)!;
      const bytes = Buffer.byteLength(text);
      if (bytes > MAX_ARTIFACT_JSON_BYTES) throw invalid(`${at}.value is ${bytes} bytes of JSON; a json artifact takes at most ${MAX_ARTIFACT_JSON_BYTES}`);
      return { kind, value: createHash('sha256').update(text).digest('hex'), hash: null, meta: text };
    }
  }
}

/** A completion's artifacts, checked; `where` names the item of a batch. */
export function checkArtifacts(list: unknown, where = ''): StoredArtifact[] {
  if (list === undefined || list === null) return [];
  const name = `artifacts${where}`;
  if (!Array.isArray(list)) throw invalid(`${name} must be an array of artifacts, got ${show(list)}`);
  if (list.length > MAX_TASK_ARTIFACTS) throw invalid(`${name} has ${list.length} artifacts; a task takes at most ${MAX_TASK_ARTIFACTS}`);
  return list.map((item, i) => checkArtifact(item, `${name}[${i}]`));
}

export function artifactFromRow(row: StoredArtifact): Artifact {
  switch (row.kind) {
    case 'commit':
      return { kind: 'commit', sha: row.value };
    case 'file':
      return { kind: 'file', path: row.value, sha256: row.hash! };
    case 'url':
      return { kind: 'url', url: row.value };
    case 'json':
      return { kind: 'json', value: JSON.parse(row.meta!) as unknown };
  }
}

/** Stores each task's artifacts (deferred: one statement for all; a failure fails the transaction). */
export function storeArtifacts(tx: StoreTx, made: Array<{ taskId: number; artifacts: StoredArtifact[] }>): void {
  const list = made.flatMap(({ taskId, artifacts }) => artifacts.map((a, i) => ({ taskId, seq: i + 1, ...a })));
  if (list.length > 0) tx.defer('artifactsInsert', { list: JSON.stringify(list) });
}

export async function artifactsOf(tx: StoreTx, taskId: number): Promise<Artifact[]> {
  return (await tx.all<ArtifactRow>('artifactsOf', { taskId })).map(artifactFromRow);
}

/** The tasks, each with its artifacts (read in one statement). */
export async function withArtifacts(tx: StoreTx, tasks: Task[]): Promise<Task[]> {
  if (tasks.length === 0) return tasks;
  const rows = await tx.all<ArtifactRow>('artifactsOfMany', { ids: JSON.stringify(tasks.map((t) => t.id)) });
  const byTask = new Map<number, Artifact[]>();
  for (const row of rows) {
    const id = Number(row.task_id);
    byTask.set(id, [...(byTask.get(id) ?? []), artifactFromRow(row)]);
  }
  return tasks.map((t) => ({ ...t, artifacts: byTask.get(t.id) ?? [] }));
}

/** What listTasks' `artifact` looks for: the text as given, lower-cased, and (hex of MIN_ARTIFACT_PREFIX or more) a prefix range. */
export interface ArtifactQuery {
  q: string;
  lower: string;
  lo: string | null;
  hi: string | null;
}

export function checkArtifactQuery(value: unknown): ArtifactQuery {
  const q = requireString('artifact', value, { max: MAX_PATH_LENGTH });
  const lower = q.toLowerCase();
  // Lower-case hex sorts below 'g': [prefix, prefix + 'g') holds every sha or hash that starts with it.
  const prefix = q.length >= MIN_ARTIFACT_PREFIX && q.length < 64 && HEX.test(q);
  return { q, lower, lo: prefix ? lower : null, hi: prefix ? `${lower}g` : null };
}

/** Tasks with a matching artifact, in id order, as listTasks filters them otherwise; each with its artifacts. */
export async function tasksByArtifact(tx: StoreTx, query: ArtifactQuery, filter: CheckedFilter): Promise<Task[]> {
  // Page by task id until the filter's limit is met: a common value (a URL) may match many tasks of other queues first.
  const tasks: Task[] = [];
  for (let after = 0; tasks.length < filter.limit; ) {
    const found = await tx.all<{ task_id: number }>('artifactTaskIds', { ...query, after, limit: MAX_LIST_LIMIT });
    if (found.length === 0) break;
    after = Number(found.at(-1)!.task_id);
    for (const t of await tasksByIds(tx, found.map((r) => Number(r.task_id)))) {
      if ((filter.queue === null || t.queue === filter.queue) && (filter.statuses === undefined || filter.statuses.includes(t.status as TaskStatus))) tasks.push(t);
    }
    if (found.length < MAX_LIST_LIMIT) break;
  }
  return withArtifacts(tx, tasks.slice(0, filter.limit));
}

/** Completes one claim and stores its artifacts, in the caller's transaction; the task comes back with them if it made any. */
export async function completeWithArtifacts(tx: StoreTx, item: Completion, made: StoredArtifact[]): Promise<Task> {
  const task = taskFromRow(await completeTask(tx, item, made.length));
  storeArtifacts(tx, [{ taskId: task.id, artifacts: made }]);
  return made.length === 0 ? task : { ...task, artifacts: made.map(artifactFromRow) };
}

/** completeMany: the claims completed as completeTasks does, then every item's artifacts stored (one statement). */
export async function completeManyWithArtifacts(tx: StoreTx, items: Completion[], made: StoredArtifact[][]): Promise<Task[] | { ids: number[] }> {
  const done = await completeTasks(tx, items, made.map((m) => m.length));
  storeArtifacts(tx, items.map((item, i) => ({ taskId: item.ref.taskId, artifacts: made[i]! })));
  if (!Array.isArray(done)) return done;
  return done.map((row, i) => (made[i]!.length === 0 ? taskFromRow(row) : { ...taskFromRow(row), artifacts: made[i]!.map(artifactFromRow) }));
}

/** Each item's artifacts, checked before anything happens (`(item n)` names one of a batch). */
export function checkManyArtifacts(items: Array<{ artifacts?: unknown }>): StoredArtifact[][] {
  return items.map((item, i) => checkArtifacts(item.artifacts, items.length > 1 ? ` (item ${i})` : ''));
}
