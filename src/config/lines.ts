// Where each key of a TOML text is written, so a refusal of a value can name
// its line: `[table]` headers, `key = value` lines (dotted and quoted keys
// too), and the keys of inline tables on that line. The TOML parser has
// already accepted the text, so this reads only what it needs to: keys.

/** One key, bare or quoted, at `i`: the key and where it ends; undefined if none starts there. */
function oneKey(line: string, i: number): { key: string; end: number } | undefined {
  const bare = /^[A-Za-z0-9_-]+/.exec(line.slice(i));
  if (bare !== null) return { key: bare[0], end: i + bare[0].length };
  const quote = line[i];
  if (quote === "'") {
    const close = line.indexOf("'", i + 1);
    return close === -1 ? undefined : { key: line.slice(i + 1, close), end: close + 1 };
  }
  if (quote === '"') {
    for (let j = i + 1; j < line.length; j++) {
      if (line[j] === '\\') j++;
      else if (line[j] === '"') {
        try {
          return { key: JSON.parse(line.slice(i, j + 1)) as string, end: j + 1 };
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** A dotted key at `i` (`a."b.c".d`), and where it ends. */
function dottedKey(line: string, i: number): { keys: string[]; end: number } | undefined {
  const keys: string[] = [];
  let at = i;
  for (;;) {
    while (line[at] === ' ' || line[at] === '\t') at++;
    const one = oneKey(line, at);
    if (one === undefined) return undefined;
    keys.push(one.key);
    at = one.end;
    while (line[at] === ' ' || line[at] === '\t') at++;
    if (line[at] !== '.') return { keys, end: at };
    at++;
  }
}

/** The end of the string value starting at `i` (a quote), so keys are not looked for inside it. */
function skipString(line: string, i: number): number {
  const quote = line[i]!;
  for (let j = i + 1; j < line.length; j++) {
    if (quote === '"' && line[j] === '\\') j++;
    else if (line[j] === quote) return j + 1;
  }
  return line.length;
}

export class KeyLines {
  readonly #lines = new Map<string, number>();

  constructor(text: string) {
    let table: string[] = [];
    text.split(/\r?\n/).forEach((line, index) => {
      const number = index + 1;
      const start = line.search(/\S/);
      if (start === -1 || line[start] === '#') return;
      if (line[start] === '[') {
        const header = dottedKey(line, start + (line[start + 1] === '[' ? 2 : 1));
        if (header !== undefined) {
          table = header.keys;
          this.#note(table, number);
        }
        return;
      }
      const assigned = dottedKey(line, start);
      if (assigned === undefined || line[assigned.end] !== '=') return;
      const path = [...table, ...assigned.keys];
      this.#note(path, number);
      this.#inline(line, assigned.end + 1, path, number);
    });
  }

  #note(path: string[], line: number): void {
    const id = JSON.stringify(path);
    if (!this.#lines.has(id)) this.#lines.set(id, line);
  }

  /** The keys of inline tables in the value from `i` (`{ rate = 2, burst = { ... } }`). */
  #inline(line: string, i: number, path: string[], number: number): void {
    const stack: string[][] = [];
    let current = path;
    let expectKey = false;
    for (let j = i; j < line.length; j++) {
      const c = line[j]!;
      if (c === '#' && stack.length === 0) return;
      if (c === '"' || c === "'") {
        j = skipString(line, j) - 1;
        continue;
      }
      if (c === '{') {
        stack.push(current);
        expectKey = true;
      } else if (c === '}') {
        current = stack.pop() ?? path;
      } else if (c === ',') {
        expectKey = stack.length > 0;
      } else if (expectKey && c !== ' ' && c !== '\t') {
        expectKey = false;
        const inner = dottedKey(line, j);
        if (inner !== undefined && line[inner.end] === '=') {
          current = [...stack.at(-1)!, ...inner.keys];
          this.#note(current, number);
          j = inner.end;
        }
      }
    }
  }

  /** The line of `path` (array indexes skipped), else of the nearest table around it; undefined if none. */
  lineOf(path: readonly PropertyKey[]): number | undefined {
    const keys = path.filter((p): p is string => typeof p === 'string');
    for (let n = keys.length; n > 0; n--) {
      const line = this.#lines.get(JSON.stringify(keys.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}
