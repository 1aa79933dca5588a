// One task in full: its fields, claim, approval, payload, result, error and the tasks it
// depends on (links that select them). A task not among those loaded (older
// than the newest per state) is fetched with getTask.
import { useEffect, useState, type ReactNode } from 'react';
import { useBatonActions, useProtocol } from '../../src/react/index.ts';
import { approvalText, ApprovalNote } from './approval-parts.tsx';
import { DetailsPanel, Facts, Json } from './common.tsx';
import { ago, dateTime, until } from './format.ts';
import { ClaimCell, TaskActions } from './task-parts.tsx';
import type { Session, Task } from './types.ts';
import { setParams } from './url-state.ts';

export function TaskDetails({ id, sessions, seq, now }: { id: number | null; sessions: ReadonlyMap<string, Session>; seq: number; now: number }): ReactNode {
  const loaded = useProtocol((s) => (id === null ? undefined : s.tasks.find((t) => t.id === id)));
  const { call } = useBatonActions();
  const [fetched, setFetched] = useState<{ id: number; task: Task | null } | null>(null);

  useEffect(() => {
    if (id === null || Number.isNaN(id) || loaded !== undefined) return;
    let cancelled = false;
    call<Task>('getTask', { id }).then(
      (task) => !cancelled && setFetched({ id, task }),
      () => !cancelled && setFetched({ id, task: null }),
    );
    return () => {
      cancelled = true;
    };
  }, [call, id, loaded]);

  if (id === null || Number.isNaN(id)) return <DetailsPanel title="Details">Select a task (↑ ↓ or J K) to see its details.</DetailsPanel>;
  const task = loaded ?? (fetched?.id === id ? fetched.task : undefined);
  if (task === undefined) return <DetailsPanel title={`Task #${id}`}>Loading…</DetailsPanel>;
  if (task === null) return <DetailsPanel title={`Task #${id}`}>No such task (removed?).</DetailsPanel>;

  return (
    <DetailsPanel title={`Task #${task.id}`}>
      <Facts
        rows={[
          ['Title', task.title],
          ['Queue', task.queue],
          ['State', task.status],
          ['Reason', task.reason],
          ['Approval', approvalText(task)],
          ['Priority', String(task.priority)],
          ['Attempts', `${task.attempts} of ${task.maxAttempts}`],
          ['Runs at', task.runAt > now ? `${dateTime(task.runAt)} (${until(task.runAt, now)})` : null],
          ['Claim', task.status === 'claimed' ? <ClaimCell task={task} sessions={sessions} now={now} /> : null],
          ['Created', `${dateTime(task.createdAt)} (${ago(task.createdAt, now)})`],
          ['Changed', `${dateTime(task.updatedAt)} (${ago(task.updatedAt, now)}), version ${task.version}`],
        ]}
      />
      <div className="details-actions">
        <TaskActions task={task} seq={seq} now={now} />
      </div>
      <ApprovalNote task={task} />
      {task.dependsOn.length > 0 ? (
        <>
          <h4>Depends on ({task.pendingDeps} not done)</h4>
          <ul className="inline-list">
            {task.dependsOn.map((d) => (
              <li key={d}>
                <button type="button" className="link-button" onClick={() => setParams({ sel: d, state: null, error: null, q: null })}>
                  #{d}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {task.lastError !== null ? (
        <>
          <h4>Last error</h4>
          <pre className="json">{task.lastError}</pre>
        </>
      ) : null}
      <h4>Payload</h4>
      <Json value={task.payload} />
      {task.result !== null && task.result !== undefined ? (
        <>
          <h4>Result</h4>
          <Json value={task.result} />
        </>
      ) : null}
    </DetailsPanel>
  );
}
