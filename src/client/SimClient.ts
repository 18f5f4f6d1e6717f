// What the page talks to: send commands, hear messages. Two transports share the interface, a real
// Web Worker and an in-process one for tests and as a fallback.
import type { CommandMap, CommandType, WorkerMessage } from '../protocol/messages.ts';

export type MessageListener = (msg: WorkerMessage) => void;

/** What happened when the simulation died: whether the last run was sent again, and in words. */
export interface Restart {
  replayed: boolean;
  message: string;
}

export interface SimClient {
  /** Send a command; returns its id, which every reply names. */
  send<K extends CommandType>(type: K, payload: CommandMap[K]): number;
  subscribe(listener: MessageListener): () => void;
  /** Called after the simulation died and was restarted (the last run may have been sent again). */
  onRestart(listener: (r: Restart) => void): () => void;
  /**
   * Abandon the run in flight at once (a script cannot be interrupted from inside): true when it
   * was cut off, false when this transport cannot (the caller then waits for it).
   */
  cancelRun(): boolean;
  dispose(): void;
}

/** Listener bookkeeping both transports share. */
export class Listeners<T extends unknown[]> {
  private readonly set = new Set<(...args: T) => void>();
  add(fn: (...args: T) => void): () => void {
    this.set.add(fn);
    return () => this.set.delete(fn);
  }
  emit(...args: T): void {
    for (const fn of this.set) fn(...args);
  }
}
