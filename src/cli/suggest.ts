// "Did you mean": the names nearest a mistyped one. Offered only when close
// enough to be a slip of the fingers, as git and cargo do: a wrong guess
// costs the reader more than no guess.

/**
 * Edits from `a` to `b`: insert, delete, substitute, or swap two neighbours
 * (`stauts` is one edit from `status`: the commonest typo is a swap).
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the optimal-string-alignment table: the one before last, the last, this one.
  let before: number[] = [];
  let last = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(last[j]! + 1, row[j - 1]! + 1, last[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = last;
    last = row;
  }
  return last[b.length]!;
}

/**
 * The candidates `typed` most likely meant: those at the smallest edit
 * distance, if it is at most a third of the word (at least 1); else the one
 * candidate it begins (`stat` for `status`, from 3 letters). Empty when
 * nothing is close.
 */
export function closest(typed: string, candidates: readonly string[]): string[] {
  const word = typed.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best = Infinity;
  let found: string[] = [];
  for (const c of candidates) {
    if (c === typed) continue;
    const d = editDistance(word, c.toLowerCase());
    if (d > limit || d > best) continue;
    if (d < best) found = [];
    best = d;
    found.push(c);
  }
  if (found.length > 0) return found;
  const prefixed = word.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(word)) : [];
  return prefixed.length === 1 ? prefixed : [];
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`: the suggestions as one phrase (no question mark). */
export function alternatives(names: readonly string[]): string {
  const quoted = names.map((n) => JSON.stringify(n));
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}
