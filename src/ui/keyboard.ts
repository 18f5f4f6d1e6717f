import { useEffect } from 'react';
import type { TimelineTarget } from '../store/group.ts';

/** Whether a key press belongs to a text field rather than to the timeline. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SELECT' || target.isContentEditable;
}

/** The app's own actions the keys reach besides the timeline. */
export interface KeyActions {
  openHelp: () => void;
  toggleFollow: () => void;
  /** The selected entry's previous (-1) or next (1) change. */
  seekChange: (dir: 1 | -1) => void;
  /** Switch between the tree and the address-space view. */
  togglePicture: () => void;
}

/**
 * The timeline's keys: space, ← →, shift+← →, Home / End; f follows, , and . jump between the
 * selected entry's changes, v switches the tree and the address view, ? lists the keys.
 */
export function useKeyboard(target: TimelineTarget, actions: KeyActions): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      // Space on a focused button presses that button, not play.
      if (e.key === ' ' && e.target instanceof HTMLButtonElement) return;
      switch (e.key) {
        case ' ':
          target.togglePlay();
          break;
        case 'ArrowRight':
          if (e.shiftKey) target.stepOperation(1);
          else target.stepEvent(1);
          break;
        case 'ArrowLeft':
          if (e.shiftKey) target.stepOperation(-1);
          else target.stepEvent(-1);
          break;
        case 'Home':
          target.home();
          break;
        case 'End':
          target.toEnd();
          break;
        case '?':
          actions.openHelp();
          break;
        case 'f':
          actions.toggleFollow();
          break;
        case 'v':
          actions.togglePicture();
          break;
        case ',':
          actions.seekChange(-1);
          break;
        case '.':
          actions.seekChange(1);
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [target, actions]);
}
