// Which Node.js baton runs on, said in one line when this one is older. The
// launcher (src/cli/bin.ts) and the package entries (src/require-node.ts) run
// it before anything that needs a newer Node is loaded, so this file must
// load, and parse, on old Node too: no imports, and syntax Node 16 already parses.

/** The oldest Node.js major baton supports; package.json's `engines.node` says the same (a test checks). */
export const MIN_NODE_MAJOR = 24;

/** What an import of baton throws on an older Node (its code is stable; BatonError itself cannot load there). */
export class UnsupportedNodeError extends Error {
  readonly code = 'UNSUPPORTED_NODE';
  /** The running Node's version, e.g. "20.20.2". */
  readonly nodeVersion: string;

  constructor(message: string, nodeVersion: string) {
    super(message);
    this.name = 'UnsupportedNodeError';
    this.nodeVersion = nodeVersion;
  }
}

/** The one-line message when `version` is older than baton needs, else undefined. */
export function unsupportedNode(version: string = process.versions.node, execPath: string = process.execPath): string | undefined {
  const major = Number.parseInt(version, 10);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `baton needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js ${version} (${execPath}). ` +
    `Install it from https://nodejs.org or with nvm: nvm install ${MIN_NODE_MAJOR}`
  );
}

/** Throws UnsupportedNodeError on a Node older than baton needs. */
export function assertSupportedNode(): void {
  const message = unsupportedNode();
  if (message !== undefined) throw new UnsupportedNodeError(message, process.versions.node);
}
