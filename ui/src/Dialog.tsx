// A modal dialog on the native <dialog> element: showModal() puts it in the
// top layer, makes the rest of the page inert (focus cannot leave it) and
// turns Escape into a cancel event. Mounted only while open; on close, focus
// goes back to what had it before (the button that opened it).
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface DialogProps {
  title: string;
  testid: string;
  onClose(): void;
  children: ReactNode;
  onKeyDown?(event: KeyboardEvent<HTMLDialogElement>): void;
  className?: string;
  /** Start on the close button (a sheet to read, nothing to fill in). */
  focusClose?: boolean;
}

export function Dialog({ title, testid, onClose, children, onKeyDown, className, focusClose = false }: DialogProps): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const before = document.activeElement;
    if (!dialog.open) dialog.showModal();
    // A field marked for it, else the first control that is not "close" (Cancel comes before
    // Confirm, so a stray Enter does not act): where a keyboard user starts.
    const first = focusClose
      ? dialog.querySelector<HTMLElement>('[data-close]')
      : (dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('input, textarea, select, button:not([data-close])'));
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, []); // once: the dialog is mounted only while open

  return (
    <dialog
      ref={ref}
      aria-modal="true"
      aria-labelledby={titleId}
      data-testid={testid}
      className={`dialog ${className ?? ''}`}
      onCancel={(event) => {
        // Escape: close through React state, so the dialog unmounts rather than lingering closed.
        event.preventDefault();
        onClose();
      }}
      onKeyDown={onKeyDown}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" data-close onClick={onClose} aria-label="Close" title="Close (Esc)" aria-keyshortcuts="Escape" data-testid={`${testid}-close`}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}
