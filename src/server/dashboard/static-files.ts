// The dashboard's files: what Vite built into dist/ui (or $BATON_UI_DIR, a
// view of one's own). Hashed assets are cached for a year (their name changes
// with their content); index.html is revalidated every time, so a new build
// is picked up on the next load. Any other path under /ui/ that a browser
// navigates to gets index.html: the app reads its view from the URL.
import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The built dashboard in this package (dist/ui, from src/ or from dist/ alike). */
export function defaultUiDir(): string {
  return process.env.BATON_UI_DIR || fileURLToPath(new URL('../../../dist/ui/', import.meta.url));
}

export interface StaticFile {
  body: Buffer;
  headers: Record<string, string>;
}

export class StaticFiles {
  readonly dir: string;
  /** Files read once: the build does not change under a running daemon (index.html is re-read: a rebuild shows). */
  readonly #cache = new Map<string, StaticFile>();

  constructor(dir: string) {
    this.dir = normalize(dir.endsWith(sep) ? dir : dir + sep);
  }

  /** The file at `path` (below /ui/), index.html for an app route, or undefined. */
  get(path: string, acceptsHtml: boolean): StaticFile | undefined {
    let relative: string;
    try {
      relative = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    if (relative === '' || relative.endsWith('/')) return this.#index();
    if (relative.includes('\0')) return undefined;
    const full = normalize(join(this.dir, relative));
    if (!full.startsWith(this.dir)) return undefined; // .. out of the directory
    const cached = this.#cache.get(full);
    if (cached !== undefined) return cached;
    const info = statSync(full, { throwIfNoEntry: false });
    if (info === undefined || !info.isFile()) return acceptsHtml && extname(relative) === '' ? this.#index() : undefined;
    const immutable = relative.startsWith('assets/');
    const file: StaticFile = {
      body: readFileSync(full),
      headers: {
        'content-type': TYPES[extname(full).toLowerCase()] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    };
    if (immutable && this.#cache.size < 256) this.#cache.set(full, file);
    return file;
  }

  /** index.html, or undefined when the dashboard was not built. */
  #index(): StaticFile | undefined {
    const full = join(this.dir, 'index.html');
    try {
      return { body: readFileSync(full), headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' } };
    } catch {
      return undefined;
    }
  }

  /** True when index.html is there (dist/ui is built by `npm install` / `npm run build`). */
  built(): boolean {
    return this.#index() !== undefined;
  }
}
