// One timeline driving several sessions at once (compare mode's shared timeline).
import type { Session } from './session.ts';

export interface TimelineTarget {
  stepEvent(dir: 1 | -1): void;
  stepOperation(dir: 1 | -1): void;
  home(): void;
  toEnd(): void;
  togglePlay(): void;
}

export class SessionGroup implements TimelineTarget {
  constructor(readonly sessions: readonly Session[]) {}

  stepEvent(dir: 1 | -1): void {
    for (const s of this.sessions) s.stepEvent(dir);
  }

  /** Operation by operation the panes stay in step: both scripts have the same statements. */
  stepOperation(dir: 1 | -1): void {
    for (const s of this.sessions) s.stepOperation(dir);
  }

  home(): void {
    for (const s of this.sessions) s.home();
  }

  toEnd(): void {
    for (const s of this.sessions) s.toEnd();
  }

  togglePlay(): void {
    const playing = this.sessions.some((s) => s.store.getState().playing);
    for (const s of this.sessions) {
      if (s.store.getState().playing === playing) s.togglePlay();
    }
  }
}
