import { useEffect } from 'react';
import type { Session } from '../store/session.ts';

/** Whether a key press belongs to a text field rather than to the timeline. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SELECT' || target.isContentEditable;
}

/** The timeline's keys: space, ← →, shift+← →, Home / End, ? for the list. */
export function useKeyboard(session: Session): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      switch (e.key) {
        case ' ':
          session.togglePlay();
          break;
        case 'ArrowRight':
          if (e.shiftKey) session.stepOperation(1);
          else session.stepEvent(1);
          break;
        case 'ArrowLeft':
          if (e.shiftKey) session.stepOperation(-1);
          else session.stepEvent(-1);
          break;
        case 'Home':
          session.home();
          break;
        case 'End':
          session.toEnd();
          break;
        case '?':
          session.store.setState({ helpOpen: true });
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [session]);
}
