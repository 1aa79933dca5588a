// The layer check `npm test` runs (docs/architecture.md draws the layers).
// Each layer may import the layers listed before it, never one after it, and
// never a sibling on its own level: client and server meet only in what lies
// below them. Type-only imports count too: a type is a dependency.
const layers = [
  ['base', '^src/(errors|limits|node-version|require-node)\\.ts$'],
  ['files', '^src/files/'],
  ['schema', '^src/schema/'],
  ['vocabulary', '^src/(coordinator|lease-scope|git-lock|kv-watch|election)\\.ts$'],
  ['credentials', '^src/credentials/'],
  ['testing', '^src/testing/'],
  ['stores', '^src/stores/'],
  ['engine', '^src/engine/'],
  [['protocol', '^src/protocol/'], ['project', '^src/project/']],
  ['config', '^src/config/'],
  [['client', '^src/client/'], ['server', '^src/server/']],
  [['mcp', '^src/mcp/'], ['react', '^src/react/']],
  ['cli', '^src/cli/'],
  ['package entry', '^src/index\\.ts$'],
  ['dashboard', '^ui/'],
].map((level) => (Array.isArray(level[0]) ? level : [level]));

const forbidden = [];
layers.forEach((level, i) => {
  const above = layers.slice(i + 1).flat();
  for (const [name, path] of level) {
    const siblings = level.filter(([other]) => other !== name);
    for (const [target, targetPath] of [...above, ...siblings]) {
      forbidden.push({
        name: `${name}-not-${target.replace(' ', '-')}`,
        comment: `${name} (${path}) sits below ${target}: an import from it would point upward (or sideways).`,
        severity: 'error',
        from: { path },
        to: { path: targetPath },
      });
    }
  }
});

forbidden.push(
  {
    name: 'src-not-tests-or-tools',
    comment: 'The package never depends on its tests, benchmarks, scripts or their support code.',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^(test|bench|scripts|support|ui)/' },
  },
  {
    name: 'tools-not-tests',
    comment: 'bench/, scripts/ and support/ stand without test/: what they share with the tests lives in support/.',
    severity: 'error',
    from: { path: '^(bench|scripts|support)/' },
    to: { path: '^test/' },
  },
  {
    name: 'no-unresolvable',
    comment: 'An import that resolves to nothing is a typo the layer check would otherwise not see.',
    severity: 'error',
    from: {},
    to: { couldNotResolve: true },
  },
);

module.exports = {
  forbidden,
  options: {
    // dependency-cruiser cannot use TypeScript 7's compiler (it has no JavaScript API); swc parses the
    // sources, and sees `import type` as the dependency it is.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Packages are resolved as Node resolves them (their `exports` for ESM).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
