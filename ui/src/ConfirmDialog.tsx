// The confirmation every action passes through: what will be sent (the
// operation and its body), an optional reason, and the undo window. Cmd+Enter
// or Ctrl+Enter confirms from anywhere in the dialog, the reason field included.
import { useState, type ReactNode } from 'react';
import type { ActionRequest } from './actions.tsx';
import { UNDO_MS } from './actions.tsx';
import { Dialog } from './Dialog.tsx';
import { useSingleKeyShortcuts } from './settings.ts';

export interface ConfirmDialogProps {
  request: ActionRequest;
  extra: Record<string, unknown>;
  onConfirm(text: string | null): void;
  onCancel(): void;
}

export function ConfirmDialog({ request, extra, onConfirm, onCancel }: ConfirmDialogProps): ReactNode {
  const { input } = request;
  const singleKeys = useSingleKeyShortcuts();
  const [text, setText] = useState(input?.initial ?? '');
  const missing = input?.required === true && text.trim() === '';
  const submit = (): void => {
    if (!missing) onConfirm(input === undefined ? null : text.trim());
  };
  const body = { ...request.body, ...extra, ...(input !== undefined && text.trim() !== '' ? { [input.field]: text.trim() } : {}) };

  return (
    <Dialog
      title={request.title}
      testid="confirm-dialog"
      onClose={onCancel}
      onKeyDown={(event) => {
        if (event.key === 'Enter' && (event.metaKey || event.ctrlKey) && !event.nativeEvent.isComposing) {
          event.preventDefault();
          submit();
        }
      }}
    >
      <form
        className="confirm-form"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <p>{request.description}</p>
        {input !== undefined ? (
          <label className="field">
            <span>
              {input.label}
              {input.required ? ' (required)' : ' (optional)'}
            </span>
            <textarea value={text} onChange={(event) => setText(event.target.value)} rows={2} required={input.required} data-testid="confirm-input" data-autofocus />
          </label>
        ) : null}
        <p className="muted">
          Sends <code>{request.operation}</code> <code className="body">{JSON.stringify(body)}</code>
        </p>
        <p className="muted">
          It is sent {UNDO_MS / 1000} s after you confirm; until then Undo{singleKeys ? ' (Z)' : ''} cancels it and nothing reaches the daemon.
        </p>
        <div className="dialog-buttons">
          <button type="button" onClick={onCancel} data-testid="confirm-cancel">
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            disabled={missing}
            data-testid="confirm"
            aria-keyshortcuts="Meta+Enter Control+Enter"
            title="Confirm (Ctrl+Enter or ⌘+Enter)"
          >
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}
