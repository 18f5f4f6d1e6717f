// The keyboard shortcuts, in a native modal <dialog> (see useModal).
import { useRef } from 'react';
import type { KeyboardEvent, MouseEvent } from 'react';
import { useModal } from './use-modal.ts';
import './HelpDialog.css';

export interface HelpDialogProps {
  open: boolean;
  onClose: () => void;
}

const SHORTCUTS: readonly { keys: string[][]; what: string }[] = [
  { keys: [['Space']], what: 'play / pause' },
  { keys: [['←'], ['→']], what: 'one event back / forward' },
  {
    keys: [
      ['Shift', '←'],
      ['Shift', '→'],
    ],
    what: 'one operation back / forward',
  },
  { keys: [['Home'], ['End']], what: 'start / end' },
  { keys: [['v']], what: 'the tree / the address space' },
  { keys: [['f']], what: 'follow the action again (after a pan or zoom)' },
  { keys: [['Ctrl', 'Space']], what: 'in the script: complete the statement, key or value' },
  { keys: [[','], ['.']], what: "the selected entry's previous / next change" },
  { keys: [['?']], what: 'this list' },
  { keys: [['Esc']], what: 'close' },
];

export function HelpDialog({ open, onClose }: HelpDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);

  useModal(ref, open, closeButton);

  function onKeyDown(e: KeyboardEvent<HTMLDialogElement>) {
    // The timeline's shortcuts must not act behind the modal; '?' toggles the list shut.
    e.stopPropagation();
    if (e.key === '?') {
      e.preventDefault();
      onClose();
    }
  }

  function onBackdropClick(e: MouseEvent<HTMLDialogElement>) {
    if (e.target === e.currentTarget) onClose();
  }

  return (
    <dialog
      ref={ref}
      className="help-dialog"
      aria-label="Keyboard shortcuts"
      onClose={() => {
        if (open) onClose();
      }}
      onKeyDown={onKeyDown}
      onClick={onBackdropClick}
    >
      <div className="help-dialog__body">
        <header className="help-dialog__header">
          <h2 className="help-dialog__title">Keyboard shortcuts</h2>
          <button
            ref={closeButton}
            type="button"
            className="help-dialog__close"
            onClick={onClose}
            aria-label="Close"
          >
            ×
          </button>
        </header>
        <table className="help-dialog__table">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.what}>
                <th scope="row" className="help-dialog__keys">
                  {s.keys.map((combo, i) => (
                    <span key={combo.join('+')}>
                      {i > 0 && <span className="help-dialog__sep"> / </span>}
                      {combo.map((k, j) => (
                        <span key={k}>
                          {j > 0 && '+'}
                          <kbd>{k}</kbd>
                        </span>
                      ))}
                    </span>
                  ))}
                </th>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="help-dialog__tip">
          Click an entry in the paging structure to inspect it; click a row of the event log to jump
          there.
        </p>
      </div>
    </dialog>
  );
}
