import { describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../protocol/messages.ts';
import { WORDS } from '../sim/event-log.ts';
import { Mirror, WordBatch } from '../sim/replay.ts';
import { BATCH_EVENTS, createHandler } from './handler.ts';

function collect() {
  const msgs: WorkerMessage[] = [];
  const transfers: ArrayBuffer[][] = [];
  const handle = createHandler((m, t) => {
    msgs.push(m);
    transfers.push(t ?? []);
  });
  return { msgs, transfers, handle };
}

const NX = `memslot gpa=0x100000000 size=6M backing=2M
access gpa=0x100000000
access gpa=0x100000000 type=exec
expect nx_lpage_splits=1 pages_2m=1
recover_nx`;

describe('worker handler', () => {
  it('streams the whole log in batches whose words rebuild the model, then a summary', () => {
    const { msgs, transfers, handle } = collect();
    handle({ type: 'run', id: 7, script: NX });
    const batches = msgs.filter((m) => m.type === 'batch');
    const fin = msgs.at(-1);
    if (fin?.type !== 'finished') throw new Error('no finished message');
    expect(batches.length).toBeGreaterThan(0);
    expect(transfers[0]?.length).toBe(1);
    const words = batches.flatMap((b) => (b.type === 'batch' ? Array.from(b.words) : []));
    expect(words.length).toBe(fin.eventCount * WORDS);
    const mirror = new Mirror();
    mirror.seek(new WordBatch(Uint32Array.from(words)), fin.eventCount);
    expect(mirror.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    expect(fin).toMatchObject({ cmdId: 7, refused: null });
    expect(fin.failures).toEqual([{ line: 4, col: 26, name: 'pages_2m', expected: 1, actual: 0 }]);
    expect(fin.statements.map((s) => [s.line, s.kind])).toEqual([
      [1, 'memslot'],
      [2, 'access'],
      [3, 'access'],
      [4, 'expect'],
      [5, 'recover_nx'],
    ]);
    const expectSpan = fin.statements[3];
    expect(expectSpan?.firstEvent).toBe(expectSpan?.endEvent);
  });

  it('reports parse errors and runs nothing', () => {
    const { msgs, handle } = collect();
    handle({ type: 'run', id: 1, script: 'memslot gpa=0x1000\nacess gpa=0' });
    expect(msgs.map((m) => m.type)).toEqual(['parseErrors', 'finished']);
    const errs = msgs[0];
    expect(errs?.type === 'parseErrors' && errs.errors.map((e) => e.line)).toEqual([1, 2]);
    expect(msgs[1]).toMatchObject({ eventCount: 0 });
  });

  it('names a refused statement and stops there', () => {
    const { msgs, handle } = collect();
    handle({
      type: 'run',
      id: 2,
      script:
        'memslot gpa=0x100000000 size=2M\nzap_sp gpa=0x100000000 level=1\naccess gpa=0x100000000',
    });
    const fin = msgs.at(-1);
    expect(fin).toMatchObject({ type: 'finished', refused: { line: 2, col: 1 } });
    expect(fin?.type === 'finished' && fin.statements.length).toBe(1);
  });

  it('splits a long run into batches in order', () => {
    const { msgs, handle } = collect();
    const lines = ['memslot gpa=0x100000000 size=64M backing=4K'];
    for (let i = 0; i < 6000; i++) lines.push(`access gfn=0x${(0x100000 + i).toString(16)}`);
    handle({ type: 'run', id: 3, script: lines.join('\n') });
    const batches = msgs.flatMap((m) => (m.type === 'batch' ? [m] : []));
    expect(batches.length).toBeGreaterThan(1);
    batches.forEach((b, i) => expect(b.seq).toBe(i));
    expect(batches[1]?.first).toBe(BATCH_EVENTS);
  });

  it('throws on crash, so a real worker dies', () => {
    const { handle } = collect();
    expect(() => handle({ type: 'crash', id: 4 })).toThrow(/asked to crash/);
  });
});
