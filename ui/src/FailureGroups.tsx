// Failures grouped by error: tasks whose last attempt failed (retrying or
// dead), grouped by the first line of the error with numbers and ids blurred,
// so "timeout after 3012 ms" and "timeout after 2980 ms" count as one cause.
// Choosing a group filters the queue to it (?view=queue&state=failed&error=...).
import { useMemo, type ReactNode } from 'react';
import { count, firstLine } from './format.ts';
import type { Task } from './types.ts';
import { setParams } from './url-state.ts';

export function errorGroup(error: string): string {
  return firstLine(error, 200)
    .replace(/\b[0-9a-f]{8,}\b/gi, '…')
    .replace(/\d+(\.\d+)?/g, 'N')
    .trim();
}

/** A task counts as failed when its last attempt failed and it is not done. */
export const isFailed = (t: Task): boolean => t.lastError !== null && t.status !== 'done' && t.status !== 'cancelled';

export function FailureGroups({ tasks, selected }: { tasks: readonly Task[]; selected: string | null }): ReactNode {
  const groups = useMemo(() => {
    const map = new Map<string, { key: string; n: number; dead: number; example: string }>();
    for (const t of tasks) {
      if (!isFailed(t)) continue;
      const key = errorGroup(t.lastError!);
      const g = map.get(key);
      if (g === undefined) map.set(key, { key, n: 1, dead: t.status === 'dead' ? 1 : 0, example: firstLine(t.lastError!, 200) });
      else {
        g.n++;
        if (t.status === 'dead') g.dead++;
      }
    }
    return [...map.values()].sort((a, b) => b.n - a.n);
  }, [tasks]);

  return (
    <section className="panel failures" aria-labelledby="failures-title" data-testid="failure-groups">
      <h3 id="failures-title">Failures by error</h3>
      {groups.length === 0 ? (
        <p className="muted">No failed task among those loaded.</p>
      ) : (
        <ul className="plain">
          {groups.slice(0, 12).map((g) => (
            <li key={g.key}>
              <button
                type="button"
                className="failure-group"
                aria-pressed={selected === g.key}
                title={g.example}
                data-testid="failure-group"
                onClick={() => setParams(selected === g.key ? { error: null } : { state: 'failed', error: g.key, sel: null })}
              >
                <span className="n">{count(g.n)}</span> <span className="mono">{g.key}</span>
                <span className="muted"> ({g.dead} dead, {g.n - g.dead} retrying)</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
