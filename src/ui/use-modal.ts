// A native modal <dialog> that follows an `open` flag: it traps focus, closes on Esc and gives
// focus back to whatever opened it.
import { useEffect, type RefObject } from 'react';

/** Show `dialog` as a modal while `open`, focusing `first` as it opens. */
export function useModal(
  dialog: RefObject<HTMLDialogElement | null>,
  open: boolean,
  first: RefObject<HTMLElement | null>,
): void {
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      first.current?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [dialog, open, first]);
}
