import type { Command, CommandMap, CommandType, WorkerMessage } from '../protocol/messages.ts';
import { createHandler } from '../worker/handler.ts';
import { Listeners, type MessageListener, type Restart, type SimClient } from './SimClient.ts';

/** The same handler on the page's own thread; replies arrive asynchronously, as from a worker. */
export class InProcessSimClient implements SimClient {
  private nextId = 1;
  private lastRun: Command | null = null;
  private readonly messages = new Listeners<[WorkerMessage]>();
  private readonly restarts = new Listeners<[Restart]>();
  private readonly handle = createHandler((msg) => {
    queueMicrotask(() => this.messages.emit(msg));
  });

  send<K extends CommandType>(type: K, payload: CommandMap[K]): number {
    const id = this.nextId++;
    const cmd = { type, id, ...payload } as Command;
    if (cmd.type === 'run') this.lastRun = cmd;
    queueMicrotask(() => this.dispatch(cmd));
    return id;
  }

  private dispatch(cmd: Command): void {
    try {
      this.handle(cmd);
    } catch {
      // The in-process twin of a dead worker: start over and replay the last run.
      this.restarts.emit({
        replayed: this.lastRun !== null,
        message: 'The simulation stopped and was restarted; your script was replayed.',
      });
      if (this.lastRun) this.handle(this.lastRun);
    }
  }

  subscribe(listener: MessageListener): () => void {
    return this.messages.add(listener);
  }

  onRestart(listener: (r: Restart) => void): () => void {
    return this.restarts.add(listener);
  }

  /** The handler runs on this thread: a run in flight cannot be cut off. */
  cancelRun(): boolean {
    return false;
  }

  dispose(): void {
    this.lastRun = null;
  }
}
