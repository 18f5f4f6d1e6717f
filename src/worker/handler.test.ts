import { readFileSync } from 'node:fs';
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

describe('measurements for the compare view', () => {
  it("analyze counts the faults needed to touch the script's pages again", () => {
    const { msgs, handle } = collect();
    handle({ type: 'run', id: 9, script: '' });
    handle({ type: 'analyze', id: 10, script: `${NX}\naccess gpa=0x100200000` });
    // After recovery the first frame is unmapped: its read and exec both fault again (2M, then 4K).
    expect(msgs.at(-1)).toEqual({ type: 'analysis', cmdId: 10, refaults: 2 });
  });

  it('scale measures both strategies; under an invalid root the walk leaves tables accounted', () => {
    const { msgs, handle } = collect();
    handle({ type: 'scale', id: 11, ns: [1, 4], roots: [1, 2] });
    const m = msgs.at(-1);
    if (m?.type !== 'scaling') throw new Error('no scaling message');
    const row = (n: number, roots: number, strategy: string) =>
      m.rows.find((r) => r.n === n && r.roots === roots && r.strategy === strategy);
    expect(row(1, 1, 'walk')).toMatchObject({
      spte_reads: 7 + 512,
      iter_steps: 3,
      tlb_flushes_ranged: 1,
      tlb_flushes_full: 1,
      accounted: 1,
      left: 0,
      refaults: 1,
    });
    expect(row(1, 1, 'direct')).toMatchObject({
      spte_reads: 1 + 512,
      iter_steps: 0,
      tlb_flushes_ranged: 0,
      tlb_flushes_full: 1,
      left: 0,
    });
    expect(row(4, 1, 'walk')?.spte_reads).toBe(4 * (7 + 512));
    expect(row(4, 2, 'direct')).toMatchObject({ accounted: 8, left: 0 });
    expect(row(4, 2, 'walk')?.left).toBeGreaterThan(0);
  });
});

describe('worker handler: exploring a race', () => {
  const preset = readFileSync('public/presets/race-recovery-6.18.tdp', 'utf8');
  const ended = (msgs: WorkerMessage[]) =>
    new Promise<Extract<WorkerMessage, { type: 'explored' }>>((resolve) => {
      const poll = () => {
        const m = msgs.find((x) => x.type === 'explored');
        if (m?.type === 'explored') resolve(m);
        else setTimeout(poll, 5);
      };
      poll();
    });

  it('explores in slices with progress and ends with what it found', async () => {
    const { msgs, handle } = collect();
    handle({ type: 'explore', id: 3, script: preset, line: 16 });
    const end = await ended(msgs);
    expect(msgs.some((m) => m.type === 'exploreProgress' && m.cmdId === 3)).toBe(true);
    expect(end.error).toBeNull();
    expect(end.result).toMatchObject({ line: 16, complete: true, schedules: '10004' });
    expect(end.result?.finals).toHaveLength(2);
    expect(end.result?.violations).toEqual([]);
  });

  it('stops when told, between slices, keeping what it found so far', async () => {
    const { msgs, handle } = collect();
    handle({ type: 'explore', id: 4, script: preset, line: 29 });
    handle({ type: 'stopExplore', id: 5, target: 4 });
    const end = await ended(msgs);
    expect(end.result?.complete).toBe(false);
    expect(end.result?.runs).toBeGreaterThan(0);
  });

  it('says why when there is no race at the line or the script has problems', async () => {
    const { msgs, handle } = collect();
    handle({ type: 'explore', id: 6, script: preset, line: 3 });
    expect((await ended(msgs)).error).toBe('there is no race at line 3');
    const broken = collect();
    broken.handle({ type: 'explore', id: 7, script: 'race\n', line: 1 });
    expect((await ended(broken.msgs)).error).toBe('the script has problems: fix them first');
  });
});
