// Actions (force-release, requeue, fail, cancel, approve or reject a task
// awaiting approval, end a session, reset a budget period), each one protocol operation sent through useBatonActions().call,
// exactly what the CLI sends. Two safeguards, Gmail-style:
//   1. a confirmation dialog says what will be sent (Cmd/Ctrl+Enter confirms);
//   2. a confirmed action waits UNDO_MS before it is sent; Z or Undo cancels it
//      in that window and nothing reaches the daemon.
// A read-only session (whoami.readOnly) gets no action at all: the provider
// says so and every button renders nothing.
import { createContext, use, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useBatonActions, useProtocol } from '../../src/react/index.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { useSingleKeyShortcuts } from './settings.ts';

export const UNDO_MS = 5000;

export type ActionKind = 'force-release' | 'requeue' | 'fail' | 'cancel' | 'approve' | 'reject' | 'end-session' | 'reset-budget';

export interface ActionRequest {
  kind: ActionKind;
  /** "Force-release lease repo": the dialog's title and the toasts' text. */
  title: string;
  /** What it does, in a sentence the dialog shows. */
  description: string;
  operation: string;
  body: Record<string, unknown>;
  /** A text the person gives (a reason, a failure's error), sent as body[field]. */
  input?: { field: 'reason' | 'error'; label: string; required: boolean; initial: string };
  /** Looked up when the button is pressed, before the dialog opens (a claim's token): more body fields. */
  prepare?: () => Promise<Record<string, unknown>>;
}

export interface Pending {
  id: number;
  request: ActionRequest;
  body: Record<string, unknown>;
  sendAt: number;
}

export interface Outcome {
  id: number;
  title: string;
  state: 'sending' | 'ok' | 'error' | 'undone';
  text: string;
}

interface ActionsContext {
  /** False for a read-only session (and until whoami says which it is): no action buttons. */
  enabled: boolean;
  request(request: ActionRequest): void;
  /** Cancels a pending action (the newest, without an id) before it is sent. */
  undo(id?: number): void;
  pending: readonly Pending[];
  outcomes: readonly Outcome[];
  dismiss(id: number): void;
}

const Context = createContext<ActionsContext | null>(null);

export function useActions(): ActionsContext {
  const value = use(Context);
  if (value === null) throw new Error('useActions outside <ActionsProvider>');
  return value;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function describeResult(request: ActionRequest, result: unknown): string {
  if (request.kind === 'force-release' && typeof result === 'number') return result === 0 ? 'no hold was left to end' : `ended ${result} hold${result === 1 ? '' : 's'}`;
  // approveTask and rejectTask answer the task: say where the decision left it (ready, or blocked by a dependency).
  if ((request.kind === 'approve' || request.kind === 'reject') && typeof result === 'object' && result !== null && 'status' in result) return `now ${String(result.status)}`;
  return 'done';
}

export function ActionsProvider({ children }: { children: ReactNode }): ReactNode {
  const readOnly = useProtocol((s) => s.whoami?.readOnly ?? true);
  const { call } = useBatonActions();
  const [confirming, setConfirming] = useState<{ request: ActionRequest; extra: Record<string, unknown> } | null>(null);
  const [pending, setPending] = useState<readonly Pending[]>([]);
  const [outcomes, setOutcomes] = useState<readonly Outcome[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const nextId = useRef(1);

  const report = useCallback((outcome: Outcome) => {
    setOutcomes((list) => [...list.filter((o) => o.id !== outcome.id), outcome].slice(-4));
  }, []);

  const send = useCallback(
    (item: Pending) => {
      timers.current.delete(item.id);
      setPending((list) => list.filter((p) => p.id !== item.id));
      report({ id: item.id, title: item.request.title, state: 'sending', text: 'sending…' });
      call(item.request.operation, item.body).then(
        (result) => report({ id: item.id, title: item.request.title, state: 'ok', text: describeResult(item.request, result) }),
        (error: unknown) => report({ id: item.id, title: item.request.title, state: 'error', text: describeError(error) }),
      );
    },
    [call, report],
  );

  const request = useCallback(
    (req: ActionRequest) => {
      if (readOnly) return;
      if (req.prepare === undefined) return setConfirming({ request: req, extra: {} });
      req.prepare().then(
        (extra) => setConfirming({ request: req, extra }),
        (error: unknown) => report({ id: nextId.current++, title: req.title, state: 'error', text: describeError(error) }),
      );
    },
    [readOnly, report],
  );

  const confirm = useCallback(
    (text: string | null) => {
      if (confirming === null) return;
      const { request: req, extra } = confirming;
      const body = { ...req.body, ...extra, ...(req.input !== undefined && text !== null && text !== '' ? { [req.input.field]: text } : {}) };
      const item: Pending = { id: nextId.current++, request: req, body, sendAt: Date.now() + UNDO_MS };
      setConfirming(null);
      setPending((list) => [...list, item]);
      timers.current.set(item.id, setTimeout(() => send(item), UNDO_MS));
    },
    [confirming, send],
  );

  // The newest pending action, read outside a state updater (updaters must stay pure).
  const pendingRef = useRef(pending);
  pendingRef.current = pending;
  const undo = useCallback((id?: number) => {
    const last = id === undefined ? pendingRef.current.at(-1) : pendingRef.current.find((p) => p.id === id);
    if (last === undefined) return;
    clearTimeout(timers.current.get(last.id));
    timers.current.delete(last.id);
    pendingRef.current = pendingRef.current.filter((p) => p !== last); // a second Z before the next render undoes the one before
    setPending((list) => list.filter((p) => p.id !== last.id));
    report({ id: last.id, title: last.request.title, state: 'undone', text: 'undone: nothing was sent' });
  }, [report]);

  const dismiss = useCallback((id: number) => setOutcomes((list) => list.filter((o) => o.id !== id)), []);

  // Results fade after a while; errors stay until dismissed.
  useEffect(() => {
    const done = outcomes.filter((o) => o.state === 'ok' || o.state === 'undone');
    if (done.length === 0) return;
    const timer = setTimeout(() => setOutcomes((list) => list.filter((o) => !done.includes(o))), 8000);
    return () => clearTimeout(timer);
  }, [outcomes]);

  // Leaving the page inside an undo window drops the action: the browser asks first.
  useEffect(() => {
    if (pending.length === 0) return;
    const onBeforeUnload = (event: BeforeUnloadEvent): void => event.preventDefault();
    addEventListener('beforeunload', onBeforeUnload);
    return () => removeEventListener('beforeunload', onBeforeUnload);
  }, [pending.length]);

  const value = useMemo(() => ({ enabled: !readOnly, request, undo, pending, outcomes, dismiss }), [readOnly, request, undo, pending, outcomes, dismiss]);
  return (
    <Context value={value}>
      {children}
      {confirming !== null && !readOnly ? <ConfirmDialog request={confirming.request} extra={confirming.extra} onConfirm={confirm} onCancel={() => setConfirming(null)} /> : null}
    </Context>
  );
}

/** An action's button; nothing at all for a read-only session. */
export function ActionButton({ make, label, compact = false }: { make: () => ActionRequest; label: string; compact?: boolean }): ReactNode {
  const { enabled, request } = useActions();
  const singleKeys = useSingleKeyShortcuts();
  if (!enabled) return null;
  const req = make();
  return (
    <button
      type="button"
      className={`action-button ${compact ? 'compact' : ''}`}
      data-testid={`action-${req.kind}`}
      aria-label={label === req.title ? label : `${label} (${req.title})`}
      title={`${req.title}: asks to confirm, then waits ${UNDO_MS / 1000} s (Undo${singleKeys ? ' or Z' : ''} cancels it) before sending ${req.operation}`}
      onClick={(event) => {
        event.stopPropagation();
        request(req);
      }}
    >
      {label}
    </button>
  );
}
