import type { Command, CommandMap, CommandType, WorkerMessage } from '../protocol/messages.ts';
import { Listeners, type MessageListener, type Restart, type SimClient } from './SimClient.ts';

export type WorkerFactory = () => Worker;

/** Deaths in a row while running one script, after which it is not sent again. */
export const MAX_REPLAYS = 2;
/** Workers in a row that die before saying 'ready', after which the page simulates itself. */
export const MAX_START_FAILURES = 2;
/** The wait before each restart in a row: no storm of requests when something keeps failing. */
export const BACKOFF_MS = [0, 250, 1000, 4000] as const;

/** Commands answered once, which a restart must send again (their promises wait on the page). */
const ANSWERED_ONCE = new Set<CommandType>(['analyze', 'scale']);

/**
 * The simulation in a Web Worker. A worker that dies is replaced after a back-off and the last run
 * sent again, but not without end: a script that kills it MAX_REPLAYS times is dropped, and a
 * worker that cannot start makes way for `fallback` (the same handler on the page).
 */
export class WorkerSimClient implements SimClient {
  private worker: Worker | null = null;
  private ready = false;
  private nextId = 1;
  private lastRun: Command | null = null;
  /** Whether lastRun has been answered with 'finished'. */
  private runDone = true;
  private readonly pending = new Map<number, Command>();
  /** Commands sent while a restart waits out its back-off. */
  private queued: Command[] = [];
  private deaths = 0;
  private startFailures = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private fallback: SimClient | null = null;
  private readonly messages = new Listeners<[WorkerMessage]>();
  private readonly restarts = new Listeners<[Restart]>();

  constructor(
    private readonly factory: WorkerFactory,
    private readonly makeFallback: (() => Promise<SimClient>) | null = null,
  ) {
    this.worker = this.start();
  }

  private start(): Worker {
    const w = this.factory();
    this.ready = false;
    w.onmessage = (e: MessageEvent<WorkerMessage>) => {
      // A replaced worker may still be answering: only the current one speaks.
      if (w !== this.worker) return;
      this.hear(e.data);
    };
    w.onerror = (e) => {
      e.preventDefault();
      if (w === this.worker) this.died(e.message || 'the worker failed');
    };
    for (const cmd of this.queued.splice(0)) w.postMessage(cmd);
    return w;
  }

  private hear(m: WorkerMessage): void {
    if (m.type === 'ready') {
      this.ready = true;
      this.startFailures = 0;
    } else if ('cmdId' in m) {
      if (m.type === 'finished' && m.cmdId === this.lastRun?.id) {
        this.runDone = true;
        this.deaths = 0;
      }
      if (m.type === 'analysis' || m.type === 'scaling' || m.type === 'failed')
        this.pending.delete(m.cmdId);
    }
    this.messages.emit(m);
  }

  private died(why: string): void {
    const wasReady = this.ready;
    this.worker?.terminate();
    this.worker = null;
    if (!wasReady && ++this.startFailures >= MAX_START_FAILURES && this.makeFallback) {
      void this.useFallback(why);
      return;
    }
    const running = !this.runDone && this.lastRun !== null;
    if (running) this.deaths++;
    const replay = running && this.deaths <= MAX_REPLAYS;
    if (running && !replay) this.lastRun = null;
    const tries = Math.max(this.deaths, this.startFailures);
    const wait = BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)] ?? 0;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.worker = this.start();
      if (replay && this.lastRun) this.worker.postMessage(this.lastRun);
      for (const cmd of this.pending.values()) this.worker.postMessage(cmd);
    }, wait);
    this.restarts.emit({
      replayed: replay,
      message: replay
        ? 'The simulation worker stopped and was restarted; your script was replayed.'
        : running
          ? `The simulation worker died ${this.deaths} times running this script (it may need more memory than the browser gives it), so it was not run again. Your script is kept: make it smaller to run it.`
          : 'The simulation worker stopped and was restarted.',
    });
  }

  /** The worker cannot start here: the page runs the simulation itself from now on. */
  private async useFallback(why: string): Promise<void> {
    const make = this.makeFallback;
    if (!make) return;
    const fb = await make();
    this.fallback = fb;
    // The fallback numbers commands its own way: its answers carry the ids the page knows.
    fb.subscribe((m) => {
      if (m.type === 'ready') return;
      const mine = this.toMine.get(m.cmdId);
      this.messages.emit(mine === undefined ? m : { ...m, cmdId: mine });
    });
    const replay = this.lastRun !== null && !this.runDone;
    this.restarts.emit({
      replayed: replay,
      message: `The simulation worker could not start (${why}), so the simulation runs in this page instead; long runs may make it slow.${replay ? ' Your script was run again.' : ''}`,
    });
    // The ids of commands already sent carry over: the fallback answers under its own, so resend.
    const resend = [...(replay && this.lastRun ? [this.lastRun] : []), ...this.pending.values()];
    this.pending.clear();
    for (const cmd of resend) this.forward(cmd);
  }

  /** A command to the fallback, keeping the id the page knows it by. */
  private forward(cmd: Command): void {
    const fb = this.fallback;
    if (!fb) return;
    const { type, id, ...payload } = cmd;
    const args = cmd.type === 'stop' ? { target: this.toTheirs.get(cmd.target) ?? -1 } : payload;
    const theirs = fb.send(type, args);
    this.toMine.set(theirs, id);
    this.toTheirs.set(id, theirs);
  }

  private readonly toMine = new Map<number, number>();
  private readonly toTheirs = new Map<number, number>();

  send<K extends CommandType>(type: K, payload: CommandMap[K]): number {
    const id = this.nextId++;
    const cmd = { type, id, ...payload } as Command;
    if (cmd.type === 'run') {
      this.lastRun = cmd;
      this.runDone = false;
      this.deaths = 0;
    }
    if (ANSWERED_ONCE.has(cmd.type)) this.pending.set(id, cmd);
    if (this.fallback) this.forward(cmd);
    else if (this.worker) this.worker.postMessage(cmd);
    else this.queued.push(cmd);
    return id;
  }

  cancelRun(): boolean {
    if (this.fallback || this.runDone || !this.lastRun) return false;
    // A script cannot hear Stop while a statement runs: the worker goes, a fresh one takes over.
    this.lastRun = null;
    this.runDone = true;
    this.worker?.terminate();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.worker = this.start();
    for (const cmd of this.pending.values()) this.worker.postMessage(cmd);
    return true;
  }

  subscribe(listener: MessageListener): () => void {
    return this.messages.add(listener);
  }

  onRestart(listener: (r: Restart) => void): () => void {
    return this.restarts.add(listener);
  }

  dispose(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.worker?.terminate();
    this.worker = null;
    this.fallback?.dispose();
  }
}

/** The production worker; kept apart so unit tests never construct a real Worker. */
export function createSimWorker(): Worker {
  return new Worker(new URL('../worker/sim.worker.ts', import.meta.url), {
    type: 'module',
    name: 'tdpviz-sim',
  });
}
