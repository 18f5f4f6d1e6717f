import type { Command, CommandMap, CommandType, WorkerMessage } from '../protocol/messages.ts';
import { Listeners, type MessageListener, type SimClient } from './SimClient.ts';

export type WorkerFactory = () => Worker;

/** The simulation in a Web Worker; if the worker dies it is replaced and the last run re-sent. */
export class WorkerSimClient implements SimClient {
  private worker: Worker;
  private nextId = 1;
  private lastRun: Command | null = null;
  private readonly messages = new Listeners<[WorkerMessage]>();
  private readonly restarts = new Listeners<[]>();

  constructor(private readonly factory: WorkerFactory) {
    this.worker = this.start();
  }

  private start(): Worker {
    const w = this.factory();
    w.onmessage = (e: MessageEvent<WorkerMessage>) => this.messages.emit(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      this.restart();
    };
    return w;
  }

  private restart(): void {
    this.worker.terminate();
    this.worker = this.start();
    this.restarts.emit();
    if (this.lastRun) this.worker.postMessage(this.lastRun);
  }

  send<K extends CommandType>(type: K, payload: CommandMap[K]): number {
    const id = this.nextId++;
    const cmd = { type, id, ...payload } as Command;
    if (cmd.type === 'run') this.lastRun = cmd;
    this.worker.postMessage(cmd);
    return id;
  }

  subscribe(listener: MessageListener): () => void {
    return this.messages.add(listener);
  }

  onRestart(listener: () => void): () => void {
    return this.restarts.add(listener);
  }

  dispose(): void {
    this.worker.terminate();
  }
}

/** The production worker; kept apart so unit tests never construct a real Worker. */
export function createSimWorker(): Worker {
  return new Worker(new URL('../worker/sim.worker.ts', import.meta.url), {
    type: 'module',
    name: 'tdpviz-sim',
  });
}
