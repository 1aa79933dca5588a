// The sheet ? opens: every shortcut, what it does, and the switch for the
// single-key ones. Escape or the close button closes it.
import type { ReactNode } from 'react';
import { Dialog } from './Dialog.tsx';
import { SHORTCUTS } from './keyboard.ts';
import { setSingleKeyShortcuts, useSingleKeyShortcuts } from './settings.ts';

export function ShortcutSheet({ onClose }: { onClose(): void }): ReactNode {
  const singleKeys = useSingleKeyShortcuts();
  return (
    <Dialog title="Keyboard shortcuts" testid="shortcut-sheet" onClose={onClose} className="sheet" focusClose>
      <table className="shortcuts">
        <caption className="visually-hidden">Keyboard shortcuts</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys} className={s.single && !singleKeys ? 'off' : undefined}>
              <td>
                <kbd>{s.label}</kbd>
              </td>
              <td>
                {s.what}
                {s.single && !singleKeys ? ' (off)' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Shortcuts never fire while you type in a field. Every one is also a button in the toolbar or the dialog.</p>
      <label className="toggle">
        <input type="checkbox" checked={singleKeys} onChange={(e) => setSingleKeyShortcuts(e.target.checked)} data-testid="shortcut-sheet-toggle" />
        Single-key shortcuts (everything but Ctrl/⌘+Enter and Esc)
      </label>
    </Dialog>
  );
}
