// Every keyboard shortcut is also a button here: its tooltip names the key and
// aria-keyshortcuts announces it. With single-key shortcuts turned off the
// buttons stay, and neither the tooltip nor the attribute promises a key.
import type { ReactNode } from 'react';
import { useProtocol } from '../../src/react/index.ts';
import { useActions } from './actions.tsx';
import { setSingleKeyShortcuts, useSingleKeyShortcuts } from './settings.ts';

export interface ToolbarProps {
  togglePause(): void;
  sync(): void;
  syncing: boolean;
  details(): void;
  detailsOpen: boolean;
  help(): void;
}

function ToolButton(props: { testid: string; keys: string; keyLabel: string; label: string; help: string; onClick(): void; pressed?: boolean; disabled?: boolean }): ReactNode {
  const singleKeys = useSingleKeyShortcuts();
  return (
    <button
      type="button"
      data-testid={props.testid}
      onClick={props.onClick}
      aria-pressed={props.pressed}
      disabled={props.disabled}
      aria-keyshortcuts={singleKeys ? props.keys : undefined}
      title={singleKeys ? `${props.help} (${props.keyLabel})` : props.help}
    >
      {props.label}
      {singleKeys ? <kbd aria-hidden="true">{props.keyLabel}</kbd> : null}
    </button>
  );
}

export function Toolbar(props: ToolbarProps): ReactNode {
  const paused = useProtocol((s) => s.paused);
  const { enabled, pending, undo } = useActions();
  const singleKeys = useSingleKeyShortcuts();
  return (
    <div className="toolbar" role="toolbar" aria-label="Live stream and shortcuts" data-testid="toolbar">
      <ToolButton
        testid="pause"
        keys="S"
        keyLabel="S"
        label={paused ? 'Resume' : 'Pause'}
        help={paused ? 'Resume live updates: apply the events held while paused' : 'Pause live updates: freeze the page while you look (events are kept)'}
        onClick={props.togglePause}
        pressed={paused}
      />
      <ToolButton testid="sync" keys="Shift+S" keyLabel="Shift+S" label={props.syncing ? 'Syncing…' : 'Sync now'} help="Sync now: fetch everything from the daemon again" onClick={props.sync} />
      <ToolButton testid="details-button" keys="D" keyLabel="D" label={props.detailsOpen ? 'Hide details' : 'Details'} help="Details of the selected row" onClick={props.details} pressed={props.detailsOpen} />
      {enabled ? (
        <ToolButton
          testid="undo"
          keys="Z"
          keyLabel="Z"
          label={pending.length > 0 ? `Undo (${pending.length})` : 'Undo'}
          help="Undo the last action while its 5 s undo window lasts (it has not been sent yet)"
          onClick={() => undo()}
          disabled={pending.length === 0}
        />
      ) : null}
      <ToolButton testid="help" keys="?" keyLabel="?" label="Shortcuts" help="Keyboard shortcuts" onClick={props.help} />
      <label className="toggle" title="Single-key shortcuts (S, D, Z, ?, J, K): turn them off if they get in the way, e.g. with speech input">
        <input type="checkbox" checked={singleKeys} onChange={(e) => setSingleKeyShortcuts(e.target.checked)} data-testid="shortcuts-toggle" />
        Single-key shortcuts
      </label>
    </div>
  );
}
