import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Command, CommandMap, CommandType, WorkerMessage } from '../protocol/messages.ts';
import { Listeners, type MessageListener, type Restart, type SimClient } from './SimClient.ts';
import { BACKOFF_MS, MAX_REPLAYS, WorkerSimClient } from './WorkerSimClient.ts';

/** A stand-in Worker: says 'ready' (or fails to load) on the next tick, and records what it got. */
class FakeWorker {
  onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  posted: Command[] = [];
  terminated = false;
  constructor(starts: boolean) {
    setTimeout(() => (starts ? this.say({ type: 'ready', version: 1 }) : this.fail('404')), 0);
  }
  postMessage(cmd: Command): void {
    this.posted.push(cmd);
  }
  terminate(): void {
    this.terminated = true;
  }
  say(m: WorkerMessage): void {
    this.onmessage?.({ data: m } as MessageEvent<WorkerMessage>);
  }
  fail(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as unknown as ErrorEvent);
  }
}

function harness(starts: (n: number) => boolean = () => true, fallback?: SimClient) {
  const workers: FakeWorker[] = [];
  const client = new WorkerSimClient(
    () => {
      const w = new FakeWorker(starts(workers.length));
      workers.push(w);
      return w as unknown as Worker;
    },
    fallback ? () => Promise.resolve(fallback) : null,
  );
  const restarts: Restart[] = [];
  const heard: WorkerMessage[] = [];
  client.onRestart((r) => restarts.push(r));
  client.subscribe((m) => heard.push(m));
  return { client, workers, restarts, heard, last: () => workers[workers.length - 1] };
}

/** A fallback that answers every command at once with 'finished'. */
class Answering implements SimClient {
  private next = 100;
  readonly got: Command[] = [];
  private readonly msgs = new Listeners<[WorkerMessage]>();
  send<K extends CommandType>(type: K, payload: CommandMap[K]): number {
    const id = this.next++;
    this.got.push({ type, id, ...payload } as Command);
    const spans = { line: new Int32Array(0), first: new Int32Array(0), end: new Int32Array(0) };
    queueMicrotask(() =>
      this.msgs.emit({
        type: 'finished',
        cmdId: id,
        eventCount: 0,
        spans: { ...spans, kind: new Uint16Array(0), kinds: [], trace: null },
        stopped: null,
        failures: [],
        refused: null,
        ms: 0,
      }),
    );
    return id;
  }
  subscribe(l: MessageListener): () => void {
    return this.msgs.add(l);
  }
  onRestart(): () => void {
    return () => {};
  }
  cancelRun(): boolean {
    return false;
  }
  dispose(): void {}
}

describe('WorkerSimClient', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('replays a run the worker died in, with a back-off, and gives up after MAX_REPLAYS deaths', async () => {
    const h = harness();
    await vi.advanceTimersByTimeAsync(0);
    const id = h.client.send('run', { script: 'memslot gpa=0x100000000 size=2M' });
    for (let death = 1; death <= MAX_REPLAYS; death++) {
      h.last()?.fail('out of memory');
      // No new worker until the back-off has passed.
      const before = h.workers.length;
      await vi.advanceTimersByTimeAsync((BACKOFF_MS[death] ?? 0) - 1);
      expect(h.workers.length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(h.workers.length).toBe(before + 1);
      expect(h.last()?.posted.map((c) => [c.type, c.id])).toEqual([['run', id]]);
      expect(h.restarts.at(-1)).toEqual({
        replayed: true,
        message: 'The simulation worker stopped and was restarted; your script was replayed.',
      });
    }
    h.last()?.fail('out of memory');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.last()?.posted).toEqual([]);
    expect(h.restarts.at(-1)?.replayed).toBe(false);
    expect(h.restarts.at(-1)?.message).toContain(
      `died ${MAX_REPLAYS + 1} times running this script`,
    );
    expect(h.workers).toHaveLength(MAX_REPLAYS + 2);
  });

  it('a finished run is not replayed, and a dead worker that was replaced is not heard', async () => {
    const h = harness();
    await vi.advanceTimersByTimeAsync(0);
    const id = h.client.send('run', { script: 'x' });
    const first = h.last();
    first?.say({
      type: 'finished',
      cmdId: id,
      eventCount: 0,
      spans: {
        line: new Int32Array(0),
        first: new Int32Array(0),
        end: new Int32Array(0),
        kind: new Uint16Array(0),
        kinds: [],
        trace: null,
      },
      stopped: null,
      failures: [],
      refused: null,
      ms: 0,
    });
    first?.fail('crash');
    // A second error from the same dead worker (it handled one more message) changes nothing.
    first?.fail('crash again');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.restarts).toEqual([
      { replayed: false, message: 'The simulation worker stopped and was restarted.' },
    ]);
    expect(h.workers).toHaveLength(2);
    expect(h.last()?.posted).toEqual([]);
  });

  it('sends a pending measurement again after a restart', async () => {
    const h = harness();
    await vi.advanceTimersByTimeAsync(0);
    const id = h.client.send('analyze', { script: 'x' });
    h.last()?.fail('crash');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.last()?.posted.map((c) => [c.type, c.id])).toEqual([['analyze', id]]);
    h.last()?.say({ type: 'analysis', cmdId: id, refaults: 3 });
    h.last()?.fail('crash');
    await vi.advanceTimersByTimeAsync(10_000);
    // Answered: not sent again.
    expect(h.workers).toHaveLength(3);
    expect(h.last()?.posted).toEqual([]);
  });

  it('a worker that cannot start makes way for the page, which runs what was asked', async () => {
    const fb = new Answering();
    const h = harness(() => false, fb);
    const id = h.client.send('run', { script: 'memslot gpa=0x100000000 size=2M' });
    await vi.advanceTimersByTimeAsync(10_000);
    // Two tries, then the fallback: no storm of requests for the worker script.
    expect(h.workers).toHaveLength(2);
    expect(fb.got.map((c) => c.type)).toEqual(['run']);
    expect(h.restarts.at(-1)?.message).toBe(
      'The simulation worker could not start (404), so the simulation runs in this page instead; long runs may make it slow. Your script was run again.',
    );
    // The answer carries the id the page knows.
    expect(
      h.heard.filter((m) => m.type === 'finished').map((m) => 'cmdId' in m && m.cmdId),
    ).toEqual([id]);
  });

  it('Stop cuts a script off: the worker goes, a fresh one starts without it', async () => {
    const h = harness();
    await vi.advanceTimersByTimeAsync(0);
    h.client.send('run', { script: 'access_range gpa=0 size=16G type=read' });
    const busy = h.last();
    expect(h.client.cancelRun()).toBe(true);
    expect(busy?.terminated).toBe(true);
    expect(h.workers).toHaveLength(2);
    expect(h.last()?.posted).toEqual([]);
    // Nothing is in flight any more.
    expect(h.client.cancelRun()).toBe(false);
  });
});
