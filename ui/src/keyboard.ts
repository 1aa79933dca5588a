// The page's keyboard shortcuts, handled in one keydown listener:
//   S pause/resume the live stream · Shift+S sync now · D details of the selected row
//   Z undo the last action in its undo window · ? the shortcut sheet
//   ArrowUp/ArrowDown (and k/j) move through the rows of the list on screen.
// Cmd/Ctrl+Enter (confirm) belongs to the confirmation dialog itself.
// Single-character keys (letters, ?) can be turned off (WCAG 2.1.4), and no
// shortcut fires while the user types in a field or composes text with an IME.
import { useEffect, useEffectEvent } from 'react';
import { moveSelection } from './row-nav.ts';
import { singleKeyShortcutsEnabled } from './settings.ts';

export interface ShortcutHandlers {
  togglePause(): void;
  sync(): void;
  details(): void;
  undo(): void;
  help(): void;
  /** Escape outside any dialog and field: close the details panel. */
  escape(): void;
}

/** The shortcut sheet and the buttons' aria-keyshortcuts read from this one list. */
export const SHORTCUTS = [
  { keys: 'Meta+Enter Control+Enter', label: 'Ctrl+Enter / ⌘+Enter', what: 'Confirm the open dialog', single: false },
  { keys: 'S', label: 'S', what: 'Pause or resume the live stream (events are kept while paused and applied on resume)', single: true },
  { keys: 'Shift+S', label: 'Shift+S', what: 'Sync now: fetch everything again', single: true },
  { keys: 'D', label: 'D', what: 'Show or hide the details of the selected row', single: true },
  { keys: 'Z', label: 'Z', what: 'Undo the last action while its 5 s undo window lasts (it is not sent until then)', single: true },
  { keys: '?', label: '?', what: 'This sheet of shortcuts', single: true },
  { keys: 'ArrowDown J', label: '↓ or J', what: 'Next row', single: true },
  { keys: 'ArrowUp K', label: '↑ or K', what: 'Previous row', single: true },
  { keys: 'Escape', label: 'Esc', what: 'Close the dialog or the details panel', single: false },
] as const;

/** True while the user is typing: a text field, a select, or anything contenteditable. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color'].includes(target.type);
  return false;
}

/** A modal dialog is open: its own controls own the keyboard. */
function modalOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  const onKeyDown = useEffectEvent((event: KeyboardEvent) => {
    // keyCode 229: some browsers send it for keys that belong to an IME composition.
    if (event.defaultPrevented || event.isComposing || event.keyCode === 229) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || modalOpen()) return;
    if (event.key === 'Escape') return handlers.escape();

    // Arrow keys are not character keys: they stay on when single-key shortcuts are off.
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (event.target instanceof HTMLElement && event.target.closest('[role="radiogroup"], [role="tablist"]') !== null) return;
      if (moveSelection(event.key === 'ArrowDown' ? 1 : -1)) event.preventDefault();
      return;
    }
    if (!singleKeyShortcutsEnabled() || event.key.length !== 1) return;

    const key = event.key.toLowerCase();
    let handled = true;
    if (event.key === '?') handlers.help();
    else if (key === 's') (event.shiftKey ? handlers.sync : handlers.togglePause)();
    else if (event.shiftKey) handled = false; // Shift+D, Shift+Z, Shift+J: not ours
    else if (key === 'd') handlers.details();
    else if (key === 'z') handlers.undo();
    else if (key === 'j') moveSelection(1);
    else if (key === 'k') moveSelection(-1);
    else handled = false;
    if (handled) event.preventDefault();
  });

  useEffect(() => {
    const listener = (event: KeyboardEvent): void => onKeyDown(event);
    addEventListener('keydown', listener);
    return () => removeEventListener('keydown', listener);
  }, []);
}
