// Paste a trace (or a scenario) as text: a native modal <dialog> with a plain textarea, which takes
// a pasted megabyte far better than the editor does. Opening it replaces the script, with Undo.
import { useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useModal } from './use-modal.ts';
import './HelpDialog.css';
import './PasteDialog.css';

export interface PasteDialogProps {
  open: boolean;
  onClose: () => void;
  /** The pasted text, to open as the script. */
  onOpen: (text: string) => void;
}

export function PasteDialog({ open, onClose, onOpen }: PasteDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const [empty, setEmpty] = useState(true);

  useModal(ref, open, area);

  const close = () => {
    if (area.current) area.current.value = '';
    setEmpty(true);
    onClose();
  };

  function onKeyDown(e: KeyboardEvent<HTMLDialogElement>) {
    // The timeline's shortcuts must not act behind the modal.
    e.stopPropagation();
  }

  return (
    <dialog
      ref={ref}
      className="help-dialog paste-dialog"
      aria-label="Paste a trace"
      onClose={() => {
        if (open) close();
      }}
      onKeyDown={onKeyDown}
    >
      <form
        className="help-dialog__body"
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          const text = area.current?.value ?? '';
          if (text.trim() === '') return;
          close();
          onOpen(text);
        }}
      >
        <header className="help-dialog__header">
          <h2 className="help-dialog__title">Paste a trace</h2>
          <button type="button" className="help-dialog__close" onClick={close} aria-label="Close">
            ×
          </button>
        </header>
        <label className="paste-dialog__label" htmlFor="paste-dialog-text">
          The text of <code>trace-cmd report</code>, of tracefs <code>trace</code> /{' '}
          <code>trace_pipe</code> (lines a mailer wrapped are joined), or a scenario. It replaces
          your script; Undo brings the script back.
        </label>
        <textarea
          id="paste-dialog-text"
          ref={area}
          className="paste-dialog__text"
          spellCheck={false}
          data-testid="paste-text"
          onInput={(e) => setEmpty(e.currentTarget.value.trim() === '')}
        />
        <div className="paste-dialog__actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="paste-dialog__open" disabled={empty}>
            Open as a run
          </button>
        </div>
      </form>
    </dialog>
  );
}
