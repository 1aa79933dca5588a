// The dashboard's files: what Vite built into dist/ui (or $BATON_UI_DIR, a
// view of one's own). Hashed assets are cached for a year (their name changes
// with their content); index.html is revalidated every time, so a new build
// is picked up on the next load. Any other path under /ui/ that a browser
// navigates to gets index.html: the app reads its view from the URL.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, normalize, posix, sep } from 'node:path';
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

  /**
   * The path below /ui/ as sent, decoded and normalised: what decides whether
   * it is public (assets/) and where it is read. Undefined for one that is
   * not valid percent-encoding, holds a NUL or a backslash, or climbs (..).
   */
  resolve(raw: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    if (decoded.split('/').includes('..')) return undefined;
    const relative = posix.normalize(`/${decoded}`).slice(1);
    return decoded.endsWith('/') && !relative.endsWith('/') ? `${relative}/` : relative;
  }

  /** The file at `relative` (from resolve), index.html for an app route, or undefined. */
  get(relative: string, acceptsHtml: boolean): StaticFile | undefined {
    const asset = relative.startsWith('assets/');
    if (relative === '' || relative.endsWith('/')) return asset ? undefined : this.#index();
    const full = normalize(join(this.dir, relative));
    if (!full.startsWith(this.dir)) return undefined;
    const cached = this.#cache.get(full);
    if (cached !== undefined) return cached;
    const info = statSync(full, { throwIfNoEntry: false });
    // An app route a browser navigates to gets the app; a missing asset is a 404, never the app.
    if (info === undefined || !info.isFile()) return acceptsHtml && !asset && extname(relative) === '' ? this.#index() : undefined;
    // A symbolic link in the build must not lead out of it.
    if (!this.#inside(full)) return undefined;
    const immutable = asset;
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

  #inside(full: string): boolean {
    try {
      const real = realpathSync(full);
      const dir = realpathSync(this.dir);
      return real.startsWith(dir.endsWith(sep) ? dir : dir + sep);
    } catch {
      return false;
    }
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
