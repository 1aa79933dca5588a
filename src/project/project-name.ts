// A project's name, and the one a repository gets by default. Every worktree
// of a repository reads the same common directory, so they derive the same
// name; so do clones on other machines, when they share an `origin` remote.
// The name is derived from, in order:
//   1. the `origin` remote's URL in <git common dir>/config: its last two
//      path parts, `owner-repo` (github.com:acme/app.git -> acme-app);
//   2. the main worktree's folder name (the common dir's parent);
//   3. outside git, the project root's folder name;
// lowercased, with every run of other characters made one dash, and cut to
// PROJECT_NAME_PATTERN's 40 characters. Read without running git: the config
// is an INI file, and only one key of one section matters.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BatonError } from '../errors.ts';
import { FALLBACK_PROJECT, PROJECT_NAME_PATTERN, PROJECT_NAME_RULE } from '../limits.ts';
import { gitCommonDir, gitToplevel } from './state-dir.ts';

/** The name as given, or INVALID_ARGUMENT naming it and the rule. */
export function checkProjectName(name: unknown, what = 'project'): string {
  if (typeof name !== 'string' || !PROJECT_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' && name.length > 60 ? `${name.slice(0, 60)}...` : name;
    throw new BatonError('INVALID_ARGUMENT', `${what} must be ${PROJECT_NAME_RULE}; got ${JSON.stringify(shown) ?? String(shown)}`, {
      details: { project: typeof name === 'string' ? name.slice(0, 100) : null },
    });
  }
  return name;
}

/** `text` as a project name: lowercase, other characters as single dashes, trimmed to the pattern; undefined if nothing is left. */
export function toProjectName(text: string): string | undefined {
  const name = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 40).replace(/-+$/, '');
  return PROJECT_NAME_PATTERN.test(name) ? name : undefined;
}

/** The `url` of `[remote "origin"]` in a git config file's text. */
export function originUrl(config: string): string | undefined {
  let inOrigin = false;
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[\s*([^\]\s]+)(?:\s+"([^"]*)")?\s*\]/.exec(line);
    if (section !== null) {
      inOrigin = section[1]!.toLowerCase() === 'remote' && section[2] === 'origin';
      continue;
    }
    const entry = inOrigin ? /^url\s*=\s*(.*)$/i.exec(line) : null;
    if (entry !== null) return entry[1]!.replace(/^"(.*)"$/, '$1').trim();
  }
  return undefined;
}

/** `owner-repo` from a remote URL (https://host/owner/repo.git, git@host:owner/repo, /srv/git/repo.git). */
export function nameFromRemote(url: string): string | undefined {
  const path = url.replace(/^[a-z+]+:\/\/[^/]*/i, '').replace(/^[^@/:]+@[^:]+:/, '').replace(/\.git\/?$/, '').replace(/\/+$/, '');
  const parts = path.split(/[/:]/).filter((p) => p !== '');
  return parts.length === 0 ? undefined : toProjectName(parts.slice(-2).join('-'));
}

export interface DerivedName {
  name: string;
  /** What it came from: `origin <url>` (credentials cut), `folder <path>`, or `fallback`. */
  from: string;
}

/** The default project of the repository (or folder) at `root`. */
export function deriveProjectName(root: string): DerivedName {
  const toplevel = gitToplevel(root);
  if (toplevel !== undefined) {
    try {
      const common = gitCommonDir(toplevel);
      const url = originUrl(readFileSync(`${common}/config`, 'utf8'));
      const fromRemote = url === undefined ? undefined : nameFromRemote(url);
      if (fromRemote !== undefined) return { name: fromRemote, from: `origin ${url!.replace(/\/\/[^@/]*@/, '//')}` };
      const main = basename(common) === '.git' ? dirname(common) : common.replace(/\.git$/, '');
      const fromFolder = toProjectName(basename(main));
      if (fromFolder !== undefined) return { name: fromFolder, from: `folder ${main}` };
    } catch {
      // An unreadable .git or config: the folder name below.
    }
  }
  const fromRoot = toProjectName(basename(toplevel ?? root));
  return fromRoot === undefined ? { name: FALLBACK_PROJECT, from: 'fallback' } : { name: fromRoot, from: `folder ${toplevel ?? root}` };
}
