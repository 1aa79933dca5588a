import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatonError } from '../../src/errors.ts';
import { normalizePathPattern, pathCovers, pathsOverlap } from '../../src/engine/paths.ts';

// [a, b, expected pathsOverlap(a, b)]
const overlapTable: Array<[string, string, boolean]> = [
  // The examples from the design.
  ['src/**', 'src/a.ts', true],
  ['src/*.ts', 'src/x.ts', true],
  ['src/*.ts', 'src/x.js', false],
  ['src/*.ts', 'src/sub/x.ts', false],
  ['src', 'src/a/b.ts', true],
  ['src/a/b.ts', 'src', true],
  ['src/a.ts', 'src/b.ts', false],
  ['**', 'anything/at/all.txt', true],
  ['**', '*.ts', true],
  ['**', '**', true],
  ['src/**/test/*.ts', 'src/a/b/test/x.ts', true],
  ['*.ts', 'a*', true],
  ['*.ts', '*.js', false],
  ['{src,lib}/**', 'lib/x', true],
  ['src/[ab].ts', 'src/c.ts', false],
  ['src/[a-c].ts', 'src/b.ts', true],
  ['src/*/index.ts', 'src/**/index.ts', true],
  ['docs/**', 'src/**', false],
  ['a/*/c', 'a/b/*', true],
  // Plain paths.
  ['src', 'src', true],
  ['src', 'srcx', false],
  ['src', 'lib', false],
  ['a/b', 'a/c', false],
  ['a/b/c', 'a/b', true],
  // Globstars.
  ['a/**', 'a', true],
  ['a/**/b', 'a/b', true],
  ['a/**/b', 'a/x/y/b/z', true],
  ['a/**/b', 'c/**', false],
  ['**/x', 'y', true], // y/x is below y
  ['**/node_modules/**', 'src/app.ts', true], // src/app.ts/node_modules could exist, by the "below" rule
  ['src/**/*.ts', 'lib/x.ts', false],
  ['src/**/*.ts', 'src/x.ts', true],
  ['src/**/*.ts', 'src/x.js', true], // src/x.js/y.ts is below src/x.js
  ['**/*.test.ts', 'src/a.test.ts', true],
  ['a/**/b/**/c', 'a/**/c/**/b', true],
  ['a/**/b', '**/c/d', true],
  ['a/***/b', 'a/x/y/b', true], // a run of stars filling a segment is a globstar
  // Single-segment wildcards.
  ['*', '.env', true], // dotfiles are not special
  ['src/*', 'src/.env', true],
  ['*/*', 'a', true],
  ['a?c', 'abc', true],
  ['a?c', 'ac', false],
  ['a?c', 'a/c', false],
  ['?', 'ab', false],
  ['??', 'ab', true],
  ['a*b*c', '*x*', true],
  ['ab*', '*ba', true],
  ['a', 'b*', false],
  ['*a', '*b', false],
  ['a*', '*b', true],
  ['a*b', 'a*c', false],
  ['*.config.*', 'vite.*.ts', true],
  ['x*y*z', 'x*', true],
  ['x*y*z', '*q', false],
  ['a*', 'a', true],
  // Classes.
  ['x/[!a]', 'x/a', false],
  ['x/[!a]', 'x/b', true],
  ['x/[^a]', 'x/a', false],
  ['x/[!a]', 'x/[!b]', true],
  ['x/[!a-z]', 'x/[a-c]', false],
  ['x/[^abc]', 'x/[a-d]', true],
  ['x/[!a]', 'x/?', true],
  ['x/[ab]', 'x/[bc]', true],
  ['x/[ab]', 'x/[cd]', false],
  ['x/[]]', 'x/]', true],
  ['x/[!]]', 'x/]', false],
  ['x/[a-]', 'x/-', true],
  // Braces.
  ['{a,b}{c,d}', 'bd', true],
  ['{a,b}{c,d}', 'ab', false],
  ['a/{b,c/d}', 'a/c', true],
  ['a/{b,c/d}', 'a/c/e', false],
  ['{src/*.ts,docs}', 'src/a.js', false],
  ['{src/*.ts,docs}', 'docs/readme.md', true],
  ['a/{x,{y,z}}', 'a/z', true],
  ['a{,.bak}', 'a.bak', true],
  ['a{,.bak}', 'a.orig', false],
  // Escapes.
  ['a\\*b', 'axb', false],
  ['a\\*b', 'a*b', true], // both mean the literal name a*b
  ['a\\*b', 'a?b', true],
  ['a\\?', 'ab', false],
  ['\\[x]', 'x', false],
  ['\\[x]', '?x]', true],
  ['a\\/b', 'a/b', true],
  // Normalization applies before matching.
  ['./src//a/', 'src/a/b', true],
  ['src/./a', 'src/b', false],
];

test('pathsOverlap: the table, both ways round', () => {
  for (const [a, b, expected] of overlapTable) {
    assert.equal(pathsOverlap(a, b), expected, `pathsOverlap(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    assert.equal(pathsOverlap(b, a), expected, `pathsOverlap(${JSON.stringify(b)}, ${JSON.stringify(a)})`);
  }
});

test('pathsOverlap is symmetric for all pairs of patterns in the table, and reflexive', () => {
  const patterns = [...new Set(overlapTable.flat().filter((x): x is string => typeof x === 'string'))];
  for (const a of patterns) {
    assert.equal(pathsOverlap(a, a), true, `${a} overlaps itself`);
    for (const b of patterns) {
      assert.equal(pathsOverlap(a, b), pathsOverlap(b, a), `symmetry of ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
    }
  }
});

test('pathCovers: a pattern covers its matches and everything below them', () => {
  const cases: Array<[string, string, boolean]> = [
    ['src', 'src', true],
    ['src', 'src/a/b.ts', true],
    ['src', 'srcx', false],
    ['src/a', 'src', false],
    ['src/*.ts', 'src/x.ts', true],
    ['src/*.ts', 'src/.ts', true],
    ['src/*.ts', 'src/x.js', false],
    ['src/*.ts', 'src/sub/x.ts', false],
    ['src/*.ts', 'src/x.ts/y', true],
    ['src/**', 'src', true],
    ['src/**', 'src/a/b/c', true],
    ['src/**', 'lib', false],
    ['**', 'anything', true],
    ['**/test/*.ts', 'test/a.ts', true],
    ['**/test/*.ts', 'a/b/test/c.ts', true],
    ['**/test/*.ts', 'a/b/test/c.js', false],
    ['src/**/test/*.ts', 'src/a/b/test/x.ts', true],
    ['*', '.env', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a/[!b]', 'a/c', true],
    ['a/[!b]', 'a/b', false],
    ['a/[a-c]x', 'a/bx', true],
    ['a/[a-c]x', 'a/dx', false],
    ['{a,b}/x', 'b/x/y', true],
    ['{a,b}/x', 'c/x', false],
    ['a/\\*', 'a/*', true],
    ['a/\\*', 'a/b', false],
    ['a/*', 'a/[x]', true], // the path is literal
    ['a/[x]', 'a/[x]', false], // the pattern has a class: escape '[' to mean it literally
    ['a/\\[x]', 'a/[x]', true],
    ['a/[x]', 'a/x', true],
    ['src', './src//a/', true],
    ['src/a', 'src/./a', true],
    ['é/*', 'é/ü', true],
    ['?', '😀', true], // one code point
  ];
  for (const [pattern, path, expected] of cases) {
    assert.equal(pathCovers(pattern, path), expected, `pathCovers(${JSON.stringify(pattern)}, ${JSON.stringify(path)})`);
  }
});

test('normalizePathPattern', () => {
  const cases: Array<[string, string]> = [
    ['src', 'src'],
    ['./src', 'src'],
    ['././src', 'src'],
    ['src/', 'src'],
    ['src///', 'src'],
    ['src//a//b', 'src/a/b'],
    ['./src//a/', 'src/a'],
    ['a/./b/.', 'a/b'],
    ['.//a', 'a'],
    ['a\\/b', 'a/b'],
    ['{a,b}/**', '{a,b}/**'],
    ['{./a,b}/', '{./a,b}'],
    ['src/[a-c]*.ts', 'src/[a-c]*.ts'],
    ['a\\*b', 'a\\*b'],
    ['.env', '.env'],
    ['...', '...'],
    ['a,b', 'a,b'],
    ['x]', 'x]'],
    ['C:x', 'C:x'], // not a drive path, just a name with a colon
  ];
  for (const [input, expected] of cases) {
    const n = normalizePathPattern(input);
    assert.equal(n, expected, `normalizePathPattern(${JSON.stringify(input)})`);
    assert.equal(normalizePathPattern(n), n, `normalization of ${JSON.stringify(input)} is idempotent`);
  }
  // Exactly 256 alternatives and 8 levels of nesting are accepted.
  normalizePathPattern('{a,b}'.repeat(8));
  normalizePathPattern('{'.repeat(8) + 'x' + '}'.repeat(8));
});

function assertInvalid(fn: () => unknown, value: string, label: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BatonError, `${label}: a BatonError`);
    assert.equal(error.code, 'INVALID_ARGUMENT', label);
    assert.ok(error.message.includes(JSON.stringify(value)), `${label}: message names the value: ${error.message}`);
    return true;
  }, label);
}

test('invalid patterns throw INVALID_ARGUMENT naming the value', () => {
  const invalidPatterns = [
    ['', 'empty'],
    ['.', 'empty after normalization'],
    ['./', 'empty after normalization'],
    ['/etc/passwd', 'absolute'],
    ['//x', 'absolute'],
    ['\\/etc', 'absolute through an escaped slash'],
    ['{/etc,src}', 'absolute alternative'],
    ['C:/x', 'Windows drive'],
    ['c:\\x', 'Windows drive with a backslash'],
    ['C:', 'bare Windows drive'],
    ['{C:/x,a}', 'Windows drive alternative'],
    ['..', "'..'"],
    ['../a', "leading '..'"],
    ['a/../b', "inner '..'"],
    ['a/..', "trailing '..'"],
    ['a/\\.\\./b', "escaped '..'"],
    ['{..,a}/x', "'..' from a brace expansion"],
    ['.{.,x}/y', "'..' assembled by a brace expansion"],
    ['a\0b', 'NUL byte'],
    ['a[b', "unbalanced '['"],
    ['a[]', "unbalanced '[' (']' first is a member)"],
    ['a[b/c]', "'/' in a class"],
    ['a[z-a]', 'reversed range'],
    ['a{b', "unbalanced '{'"],
    ['a{b,{c}', "unbalanced '{' (nested)"],
    ['a}b', "unbalanced '}'"],
    ['a\\', 'dangling backslash'],
    ['{,a}', 'empty alternative'],
    ['{'.repeat(9) + 'x' + '}'.repeat(9), 'braces nested too deep'],
    ['{a,b}'.repeat(9), 'more than 256 alternatives'],
    ['{' + Array.from({ length: 257 }, (_, i) => `f${i}`).join(',') + '}', '257 alternatives in one group'],
    ['{a,b}'.repeat(200), 'a huge expansion (must fail fast)'],
    ['x'.repeat(5000), 'too long'],
  ] as const;
  for (const [value, label] of invalidPatterns) {
    assertInvalid(() => normalizePathPattern(value), value, `normalizePathPattern: ${label}`);
    assertInvalid(() => pathsOverlap(value, 'src'), value, `pathsOverlap(a): ${label}`);
    assertInvalid(() => pathsOverlap('src', value), value, `pathsOverlap(b): ${label}`);
    assertInvalid(() => pathCovers(value, 'src'), value, `pathCovers: ${label}`);
  }
  assert.throws(() => normalizePathPattern(42 as unknown as string), (e: unknown) => e instanceof BatonError && e.code === 'INVALID_ARGUMENT');
});

test('invalid concrete paths throw INVALID_ARGUMENT naming the value', () => {
  for (const path of ['', '.', './', '/abs', 'C:\\x', 'D:/y', 'a/../b', '..', 'a\0b']) {
    assertInvalid(() => pathCovers('**', path), path, `pathCovers path ${JSON.stringify(path)}`);
  }
});

test('pathological patterns stay fast', () => {
  const start = performance.now();
  assert.equal(pathsOverlap('*a*a*a*a*a*a*a*a*a*a*a*a*b', '*a*a*a*a*a*a*a*a*a*a*a*a*c'), false);
  assert.equal(pathsOverlap('**/a/**/a/**/a/**/a/**/a/**/b', '**/a/**/a/**/a/**/a/**/a/**/c'), true);
  const deep = Array.from({ length: 200 }, () => '**/x').join('/');
  assert.equal(pathsOverlap(deep, Array.from({ length: 150 }, () => 'x').join('/')), true);
  const many = '{a,b}'.repeat(8) + '/*.ts';
  const many2 = '{a,b}'.repeat(7) + 'c/*.js';
  assert.equal(pathsOverlap(many, many2), false); // 256 x 128 pairs of alternatives
  assert.equal(pathCovers('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(200)), false);
  assert.ok(performance.now() - start < 5000, 'finished in reasonable time');
});

// ---------------------------------------------------------------------------
// Randomized cross-checks against pathCovers, with a seeded generator.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPattern(rand: () => number, maxSegs: number, maxToks: number, tokens: string[]): string {
  const segs: string[] = [];
  const n = 1 + Math.floor(rand() * maxSegs);
  for (let i = 0; i < n; i++) {
    if (rand() < 0.2) {
      segs.push('**');
      continue;
    }
    let seg = '';
    const m = 1 + Math.floor(rand() * maxToks);
    for (let j = 0; j < m; j++) seg += tokens[Math.floor(rand() * tokens.length)];
    segs.push(seg);
  }
  let p = segs.join(rand() < 0.1 ? '//' : '/');
  if (rand() < 0.1) p += '/';
  if (rand() < 0.1) p = './' + p;
  return p;
}

function allPaths(names: string[], maxDepth: number): string[] {
  const out: string[] = [];
  let level = [''];
  for (let d = 1; d <= maxDepth; d++) {
    level = level.flatMap((prefix) => names.map((n) => (prefix === '' ? n : prefix + '/' + n)));
    out.push(...level);
  }
  return out;
}

test('randomized: whenever a concrete path is covered by both patterns, they overlap', () => {
  const rand = rng(20240611);
  const paths = allPaths(['a', 'b', 'ab'], 3);
  const patterns = Array.from({ length: 160 }, () => randomPattern(rand, 3, 3, ['a', 'b', '*', '?']));
  const each = patterns.map((pattern) => ({ pattern, covered: new Set(paths.filter((path) => pathCovers(pattern, path))) }));
  let witnessed = 0;
  each.forEach((a, i) => {
    for (const b of each.slice(i)) {
      const overlap = pathsOverlap(a.pattern, b.pattern);
      assert.equal(overlap, pathsOverlap(b.pattern, a.pattern), `symmetry for ${a.pattern} / ${b.pattern}`);
      const witness = [...a.covered].find((path) => b.covered.has(path));
      if (witness !== undefined) {
        witnessed++;
        assert.ok(overlap, `${a.pattern} and ${b.pattern} both cover ${witness} but pathsOverlap said no`);
      }
    }
  });
  assert.ok(witnessed > 1000, `enough pairs had a witness (${witnessed})`);
});

test('randomized, small patterns: pathsOverlap is exact (a witness exists iff they overlap)', () => {
  // With at most 2 segments of at most 2 tokens from {a, b, *}, any overlap has a
  // witness of depth <= 3 whose names have at most 2 letters from {a, b}.
  const rand = rng(7);
  const paths = allPaths(['a', 'b', 'aa', 'ab', 'ba', 'bb'], 3);
  const patterns = [...new Set(Array.from({ length: 150 }, () => randomPattern(rand, 2, 2, ['a', 'b', '*'])))];
  const each = patterns.map((pattern) => ({ pattern, covered: new Set(paths.filter((path) => pathCovers(pattern, path))) }));
  let yes = 0;
  let no = 0;
  each.forEach((a, i) => {
    for (const b of each.slice(i)) {
      const hasWitness = [...a.covered].some((path) => b.covered.has(path));
      assert.equal(pathsOverlap(a.pattern, b.pattern), hasWitness, `${a.pattern} vs ${b.pattern}`);
      if (hasWitness) yes++;
      else no++;
    }
  });
  assert.ok(yes > 100 && no > 100, `both answers were exercised (${yes} yes, ${no} no)`);
});

test('a pattern overlaps every concrete path it covers (the path taken literally)', () => {
  const rand = rng(99);
  const paths = allPaths(['a', 'b', 'ab', '.x'], 3);
  const escape = (path: string) => path.replace(/[\\*?[\]{},]/g, (c) => '\\' + c);
  let checked = 0;
  for (let k = 0; k < 120; k++) {
    const p = randomPattern(rand, 3, 3, ['a', 'b', '*', '?', '[ab]', '[!a]', '{a,b}', '.']);
    try {
      normalizePathPattern(p);
    } catch {
      continue; // e.g. a generated '..' segment
    }
    checked++;
    for (const path of paths) {
      if (pathCovers(p, path)) assert.ok(pathsOverlap(p, escape(path)), `${p} covers ${path}`);
      if (pathCovers(p, path)) assert.ok(pathsOverlap(escape(path), p), `${p} covers ${path} (reversed)`);
    }
  }
  assert.ok(checked > 100, `enough valid patterns (${checked})`);
});
