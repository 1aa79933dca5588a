// The CLI's side of task artifacts (docs/artifacts.md): `--artifact <kind>:<value>`
// on `baton task complete` (a file is hashed here, a commit name resolved by
// git), `--artifact <sha|path|url|hash>` on `baton task list`, and the lines
// `baton task show` prints.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Artifact, Task } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { ARTIFACT_KINDS } from '../schema/artifacts.ts';
import { jsonOption, UsageError } from './command.ts';
import { closest } from './suggest.ts';

/** The option `baton task complete` takes, once per artifact. */
export const artifactOptions = { artifact: { type: 'string', multiple: true } } as const;

export const artifactHelp = `  --artifact <kind>:<value>  what the task made, stored with it (repeat it; at most 32):
                               commit:<sha or any commit name git resolves, e.g. HEAD>
                               file:<path>  (the file's content is hashed, sha256)
                               url:<url>
                               json:<json text>  (at most 16 KiB)
`;

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A commit name as its full sha: as given when it is one, else what git resolves it to. */
function commitSha(name: string): string {
  if (FULL_SHA.test(name)) return name;
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${name}^{commit}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new BatonError('INVALID_ARGUMENT', `--artifact commit:${name}: ${JSON.stringify(name)} is not a full sha (40 or 64 hex digits) nor a commit git knows here`);
  }
}

/** The sha256 of a file's content, read in pieces (a build output may be large). */
function fileSha256(path: string): string {
  const hash = createHash('sha256');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new BatonError('INVALID_ARGUMENT', `--artifact file:${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function parseArtifact(text: string): Artifact {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? '' : text.slice(colon + 1);
  if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--artifact must be <kind>:<value> with kind one of ${ARTIFACT_KINDS.join(', ')}, got ${JSON.stringify(text)}`, { didYouMean: closest(kind, ARTIFACT_KINDS) });
  }
  if (value === '') throw new UsageError(`--artifact ${kind}: needs a value after the colon, e.g. ${kind}:${kind === 'commit' ? 'HEAD' : kind === 'file' ? 'dist/app.js' : kind === 'url' ? 'https://...' : '{"ok":true}'}`);
  switch (kind as Artifact['kind']) {
    case 'commit':
      return { kind: 'commit', sha: commitSha(value) };
    case 'file':
      return { kind: 'file', path: value, sha256: fileSha256(value) };
    case 'url':
      return { kind: 'url', url: value };
    case 'json':
      return { kind: 'json', value: jsonOption(`--artifact json:`, value) };
  }
}

/** --artifact's values, each read (files hashed) before anything is sent. */
export function parseArtifacts(values: readonly string[] | undefined): Artifact[] | undefined {
  return values === undefined || values.length === 0 ? undefined : values.map(parseArtifact);
}

function artifactLine(a: Artifact): string {
  switch (a.kind) {
    case 'commit':
      return `commit  ${a.sha}`;
    case 'file':
      return `file    ${a.path}  sha256:${a.sha256}`;
    case 'url':
      return `url     ${a.url}`;
    case 'json':
      return `json    ${JSON.stringify(a.value)}`;
  }
}

/** The lines `baton task show` adds: nothing when the task has none. */
export function artifactLines(task: Task): string {
  const list = task.artifacts ?? [];
  return list.length === 0 ? '' : `artifacts:\n${list.map((a) => `  ${artifactLine(a)}\n`).join('')}`;
}
