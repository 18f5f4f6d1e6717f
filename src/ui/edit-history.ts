// The editor's undo history, kept by the app so a step is an edit, not a keystroke.
export interface Snapshot {
  value: string;
  caret: number;
}

/** Typing pauses longer than this start a new undo step. */
const UNDO_GROUP_MS = 800;

/**
 * Undo by edit, not by character: a run of typing (or of deleting) is one step, ended by a pause,
 * by switching between typing and deleting, or by typing a space or a newline after a word.
 */
export class EditHistory {
  private past: Snapshot[] = [];
  private future: Snapshot[] = [];
  private current: Snapshot;
  private lastAt = -Infinity;
  private lastKind: 'insert' | 'delete' | 'space' | null = null;

  constructor(value: string) {
    this.current = { value, caret: value.length };
  }

  /** A user edit that produced `value`. */
  record(value: string, caret: number, now: number): void {
    if (value === this.current.value) return;
    const grew = value.length > this.current.value.length;
    const typed = grew
      ? value.slice(caret - (value.length - this.current.value.length), caret)
      : '';
    const kind = !grew ? 'delete' : /^\s+$/.test(typed) ? 'space' : 'insert';
    const boundary =
      now - this.lastAt > UNDO_GROUP_MS ||
      this.lastKind === null ||
      (kind === 'delete') !== (this.lastKind === 'delete') ||
      (kind === 'space' && this.lastKind === 'insert') ||
      typed.includes('\n');
    if (boundary) this.push();
    this.current = { value, caret };
    this.lastAt = now;
    this.lastKind = kind;
  }

  /** The value changed from outside: a step of its own. */
  external(value: string): void {
    if (value === this.current.value) return;
    this.push();
    this.current = { value, caret: 0 };
    this.lastKind = null;
  }

  undo(live: string): Snapshot | null {
    if (live !== this.current.value) this.external(live);
    const prev = this.past.pop();
    if (!prev) return null;
    this.future.push(this.current);
    this.current = prev;
    this.lastKind = null;
    return prev;
  }

  redo(): Snapshot | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(this.current);
    this.current = next;
    this.lastKind = null;
    return next;
  }

  private push(): void {
    this.past.push(this.current);
    if (this.past.length > 500) this.past.shift();
    this.future = [];
  }
}
