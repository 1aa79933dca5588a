// Task artifacts: what a completion says it made (docs/artifacts.md). A
// commit by its full sha, a file by its path and the sha256 of its content,
// a URL, or a small JSON value; stored with the task, in the order given.
import { z } from 'zod';
import { MAX_ARTIFACT_JSON_BYTES, MAX_ARTIFACT_URL_LENGTH, MAX_PATH_LENGTH, MAX_TASK_ARTIFACTS, MIN_ARTIFACT_PREFIX } from '../limits.ts';
import { anyJson } from './fields.ts';

export const ARTIFACT_KINDS = ['commit', 'file', 'url', 'json'] as const;

/** Hex of one of these lengths; the message names the value (validation.ts puts the field's name before it). */
function hex(what: string, lengths: readonly number[]) {
  const pattern = new RegExp(`^(?:${lengths.map((n) => `[0-9a-fA-F]{${n}}`).join('|')})$`);
  // A pattern, not a refinement: the OpenAPI document and the fuzzer's body generator read it.
  return z.string().regex(pattern, {
    error: (issue) => {
      const value = String(issue.input);
      return `must be ${what} (${lengths.join(' or ')} hex digits), got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value)}`;
    },
  });
}

/** A git object name: SHA-1 (40) or SHA-256 (64). */
export const commitSha = hex('a full commit sha', [40, 64]).describe('The full commit id, 40 (SHA-1) or 64 (SHA-256) hex digits.');
export const sha256 = hex('a sha256', [64]).describe("The sha256 of the file's content, 64 hex digits.");

export const artifact = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('commit'), sha: commitSha }),
    z.strictObject({ kind: z.literal('file'), path: z.string().min(1).max(MAX_PATH_LENGTH), sha256 }),
    z.strictObject({ kind: z.literal('url'), url: z.string().min(1).max(MAX_ARTIFACT_URL_LENGTH).describe('An absolute URL (http, https or any scheme).') }),
    z.strictObject({ kind: z.literal('json'), value: anyJson.describe(`Any JSON value; its text at most ${MAX_ARTIFACT_JSON_BYTES} bytes.`) }),
  ])
  .describe('Something a task made: a commit, a file with its content hash, a URL, or a small JSON value.');

export const artifacts = z.array(artifact).max(MAX_TASK_ARTIFACTS).describe(`What the task made, at most ${MAX_TASK_ARTIFACTS}; stored with it, in this order.`);

export const artifactQuery = z
  .string()
  .min(1)
  .max(MAX_PATH_LENGTH)
  .describe(`Tasks with an artifact whose sha, path, URL or hash is this; ${MIN_ARTIFACT_PREFIX} or more hex digits also match the start of a sha or hash.`);
