import { describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../protocol/messages.ts';
import { InProcessSimClient } from './InProcessSimClient.ts';

function finished(client: InProcessSimClient): Promise<WorkerMessage & { type: 'finished' }> {
  return new Promise((resolve) => {
    const off = client.subscribe((m) => {
      if (m.type === 'finished') {
        off();
        resolve(m);
      }
    });
  });
}

describe('InProcessSimClient', () => {
  it('answers a run asynchronously with batches and a summary naming its id', async () => {
    const client = new InProcessSimClient();
    const seen: string[] = [];
    client.subscribe((m) => seen.push(m.type));
    const done = finished(client);
    const id = client.send('run', {
      script: 'memslot gpa=0x100000000 size=2M backing=2M\naccess gpa=0x100000000',
    });
    expect(seen).toEqual([]);
    const fin = await done;
    expect(fin.cmdId).toBe(id);
    expect(seen.at(-1)).toBe('finished');
    expect(seen.slice(0, -1)).toEqual(['progress', 'progress', 'batch']);
    expect(fin.eventCount).toBeGreaterThan(0);
  });

  it('after a crash it reports a restart and replays the last run', async () => {
    const client = new InProcessSimClient();
    let restarts = 0;
    client.onRestart(() => restarts++);
    const first = finished(client);
    const id = client.send('run', { script: 'memslot gpa=0x100000000 size=2M' });
    await first;
    const replay = finished(client);
    client.send('crash', {});
    const again = await replay;
    expect(restarts).toBe(1);
    expect(again.cmdId).toBe(id);
  });
});
