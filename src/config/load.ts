// Reading baton.toml: where it is, its TOML (smol-toml, loaded on first use so
// commands that never read it do not pay for it), and its check. Every refusal
// is one CONFIG_INVALID error worded `<file>:<line>: <reason>`, for the
// syntax, an unknown key and a value out of range alike.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { describeIssue } from '../protocol/validation.ts';
import { KeyLines } from './lines.ts';
import { configFileSchema } from './schema.ts';
import { SECRET_KEYS } from './settings.ts';

/** The file's name at the project root. */
export const CONFIG_FILE_NAME = 'baton.toml';
/** A file larger than this is not a configuration. */
const MAX_CONFIG_BYTES = 1 << 20;

/** A checked configuration file. */
export interface ConfigFile {
  path: string;
  /** The text as read: a reload compares against it. */
  text: string;
  /** The checked values: durations in milliseconds. */
  data: Record<string, unknown>;
  lines: KeyLines;
}

/** Where the configuration is: --config, else $BATON_CONFIG, else baton.toml at the project root. */
export function configPath(root: string, given?: string, env: NodeJS.ProcessEnv = process.env): { path: string; source: 'flag' | 'BATON_CONFIG' | 'root' } {
  if (given !== undefined) return { path: resolve(given), source: 'flag' };
  const fromEnv = env.BATON_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(fromEnv), source: 'BATON_CONFIG' };
  return { path: join(root, CONFIG_FILE_NAME), source: 'root' };
}

export function configError(path: string, line: number | undefined, reason: string): BatonError {
  return new BatonError('CONFIG_INVALID', `${path}${line === undefined ? '' : `:${line}`}: ${reason}`, { details: { file: path, ...(line === undefined ? {} : { line }), reason } });
}

type Issue = z.core.$ZodIssue;

/** One issue in the file's words: the dotted key, and the line it is on. */
function refusal(path: string, lines: KeyLines, issue: Issue): BatonError {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const unknown = issue.keys[0]!;
    const dotted = at === '' ? unknown : `${at}.${unknown}`;
    const line = lines.lineOf([...issue.path, unknown]);
    const secret = SECRET_KEYS[dotted];
    if (secret !== undefined) return configError(path, line, `${dotted} is a secret and this file is in the repository: set ${secret} in the environment instead`);
    return configError(path, line, `unknown key ${JSON.stringify(dotted)}`);
  }
  // describeIssue names the place as `<root>.a.b`; with no root it starts with the dot.
  const reason = describeIssue(issue, '', configFileSchema).replace(/^\./, '');
  return configError(path, lines.lineOf(issue.path), reason);
}

/** The text of a configuration file, checked. */
export async function parseConfig(path: string, text: string): Promise<ConfigFile> {
  const toml = await import('smol-toml');
  let raw: unknown;
  try {
    raw = toml.parse(text, { unsafeKeyBehaviour: 'throw' });
  } catch (error) {
    if (error instanceof toml.TomlError) {
      // smol-toml's message carries a code excerpt after its first line: the first line is the reason.
      const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw configError(path, error.line, `not valid TOML: ${reason} (column ${error.column})`);
    }
    throw configError(path, undefined, `not valid TOML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const lines = new KeyLines(text);
  const checked = configFileSchema.safeParse(raw, { reportInput: true });
  if (!checked.success) throw refusal(path, lines, checked.error.issues[0]!);
  return { path, text, data: checked.data, lines };
}

/** The configuration at `path`, checked; undefined when there is no file. */
export async function readConfig(path: string): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) throw configError(path, undefined, `larger than ${MAX_CONFIG_BYTES} bytes`);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    if (error instanceof BatonError) throw error;
    if (errnoCode(error) === 'ENOENT') return undefined;
    if (error instanceof TypeError) throw configError(path, undefined, 'not UTF-8 text');
    throw fsError(error, 'read', path);
  }
  return parseConfig(path, text);
}

/** The configuration file for `root` (--config or --file, $BATON_CONFIG, baton.toml): one named on purpose must exist; baton.toml need not. */
export async function findConfig(root: string, given?: string, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; file: ConfigFile | undefined }> {
  const { path, source } = configPath(root, given, env);
  const file = await readConfig(path);
  if (file === undefined && source !== 'root') {
    throw new BatonError('NOT_FOUND', `no configuration file ${path} (named by ${source === 'flag' ? 'the command line' : '$BATON_CONFIG'})`, { details: { path } });
  }
  return { path, file };
}
