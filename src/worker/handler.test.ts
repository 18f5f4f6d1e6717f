import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../protocol/messages.ts';
import { spanBuffers, Spans } from '../protocol/spans.ts';
import { decodeEvent } from '../sim/events.ts';
import { WORDS } from '../sim/event-log.ts';
import { tracepointLine } from '../sim/explain.ts';
import { Mirror, WordBatch } from '../sim/replay.ts';
import { Simulator } from '../sim/simulator.ts';
import { readTrace } from '../sim/trace/read-trace.ts';
import { kernelOf, levelsOf, TraceRebuild } from '../sim/trace/rebuild.ts';
import { BATCH_EVENTS, createHandler } from './handler.ts';

function collect() {
  const msgs: WorkerMessage[] = [];
  const transfers: ArrayBuffer[][] = [];
  // As postMessage does: a transferred buffer leaves the worker (its arrays there go empty).
  const handle = createHandler((m, t) => {
    msgs.push(structuredClone(m, { transfer: t ?? [] }));
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
    // Each batch hands its words over; the run said first where it was (line 1).
    expect(transfers[msgs.findIndex((m) => m.type === 'batch')]?.length).toBe(1);
    expect(msgs[0]).toMatchObject({ type: 'progress', phase: 'running', done: 1, total: 5 });
    const words = batches.flatMap((b) => (b.type === 'batch' ? Array.from(b.words) : []));
    expect(words.length).toBe(fin.eventCount * WORDS);
    const mirror = new Mirror();
    mirror.seek(new WordBatch(Uint32Array.from(words)), fin.eventCount);
    expect(mirror.stats()).toEqual({ pages_4k: 0, pages_2m: 0, pages_1g: 0, nx_lpage_splits: 0 });
    expect(fin).toMatchObject({ cmdId: 7, refused: null });
    expect(fin.failures).toEqual([{ line: 4, col: 26, name: 'pages_2m', expected: 1, actual: 0 }]);
    const spans = new Spans(fin.spans, NX);
    expect([...spans].map((s) => [s.line, s.kind])).toEqual([
      [1, 'memslot'],
      [2, 'access'],
      [3, 'access'],
      [4, 'expect'],
      [5, 'recover_nx'],
    ]);
    // Every column was transferred (moved out of the worker), none copied.
    expect(transfers.at(-1)?.length).toBe(spanBuffers(fin.spans).length);
    expect(transfers.at(-1)?.every((b) => b.byteLength === 0)).toBe(true);
    const expectSpan = spans.at(3);
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
    expect(fin?.type === 'finished' && fin.spans.line.length).toBe(1);
  });

  it('splits a long run into batches in order', () => {
    const { msgs, handle } = collect();
    const lines = ['memslot gpa=0x100000000 size=64M backing=4K'];
    for (let i = 0; i < 16000; i++) lines.push(`access gfn=0x${(0x100000 + i).toString(16)}`);
    handle({ type: 'run', id: 3, script: lines.join('\n') });
    const batches = msgs.flatMap((m) => (m.type === 'batch' ? [m] : []));
    const fin = msgs.at(-1);
    if (fin?.type !== 'finished') throw new Error('no finished message');
    expect(batches.length).toBeGreaterThan(2);
    batches.forEach((b, i) => expect(b.seq).toBe(i));
    // Whole chunks of the worker's own log, handed over (their buffers are exactly the words).
    for (const b of batches.slice(0, -1)) {
      expect(b.words.length).toBe(BATCH_EVENTS * WORDS);
      expect(b.words.buffer.byteLength).toBe(BATCH_EVENTS * WORDS * 4);
    }
    expect(batches[1]?.first).toBe(BATCH_EVENTS);
    const last = batches.at(-1);
    expect((last?.first ?? 0) + (last?.words.length ?? 0) / WORDS).toBe(fin.eventCount);
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
    handle({ type: 'stop', id: 5, target: 4 });
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

describe('worker handler: importing a trace', () => {
  const finished = (msgs: WorkerMessage[]) =>
    new Promise<Extract<WorkerMessage, { type: 'finished' }>>((resolve) => {
      const poll = () => {
        const m = msgs.find((x) => x.type === 'finished');
        if (m?.type === 'finished') resolve(m);
        else setTimeout(poll, 2);
      };
      poll();
    });
  const wordsOf = (msgs: WorkerMessage[]) =>
    Uint32Array.from(msgs.flatMap((b) => (b.type === 'batch' ? Array.from(b.words) : [])));

  /** `faults` 4K write faults on two tasks, as trace-cmd report prints them. */
  function report(faults: number): string {
    const sim = new Simulator();
    sim.memslot(0x100000, faults, 1);
    for (let i = 0; i < faults; i++) sim.fault(0x100000 + i, 'write');
    const log = sim.kvm.log;
    const lines = ['version = 6'];
    for (let i = 0; i < log.length; i++) {
      const l = tracepointLine(decodeEvent(log, i, (id) => sim.kvm.sp(id)));
      const cpu = lines.length & 1;
      if (l) lines.push(`  CPU ${cpu}/KVM-${40 + cpu} [00${cpu}] ${lines.length}.000001: ${l}`);
    }
    return lines.join('\n') + '\n';
  }

  /** A report that takes many slices to read and to rebuild, made once (seconds on a loaded box). */
  let made: string | null = null;
  const big = () => (made ??= report(120_000));

  it('reads, then rebuilds, with progress; its spans name each record, its task and its line', async () => {
    const text = readFileSync('e2e/data/nx-recovery.trace.txt', 'utf8');
    const { msgs, transfers, handle } = collect();
    handle({ type: 'run', id: 9, script: text });
    const fin = await finished(msgs);
    const phases = msgs.flatMap((m) => (m.type === 'progress' ? [m.phase] : []));
    expect(phases[0]).toBe('reading');
    expect(phases.at(-1)).toBe('rebuilding');
    expect(fin.stopped).toBeNull();
    // The same log as the rebuild made in one go.
    const read = readTrace(text);
    const whole = TraceRebuild.of(read);
    expect(fin.eventCount).toBe(whole.kvm.log.length);
    expect(wordsOf(msgs)).toEqual(whole.kvm.log.slice(0, whole.kvm.log.length));
    // Every column was transferred (moved out of the worker), none copied.
    expect(transfers.at(-1)?.length).toBe(spanBuffers(fin.spans).length);
    expect(transfers.at(-1)?.every((b) => b.byteLength === 0)).toBe(true);
    const spans = new Spans(fin.spans, text);
    expect(spans.length).toBe(read.records.length);
    const lines = text.split('\n');
    read.records.forEach((r, i) => {
      const s = spans.at(i);
      expect(s?.line).toBe(r.line);
      expect(s?.kind).toBe(r.event);
      expect(s?.trace?.text).toBe(lines[r.line - 1]?.trim());
      expect(s?.trace?.task).toBe(r.task === null ? null : `${r.task}-${r.pid}`);
      expect(s?.trace?.cpu).toBe(r.cpu);
      expect(s?.trace?.ts).toBe(r.ts);
      expect(s?.trace?.note).toBe(whole.spans[i]?.note);
    });
    expect(fin.spans.trace?.tasks).toEqual(['CPU 0/KVM-4242', 'CPU 1/KVM-4243']);
  });

  it('a trace without TDP MMU events says what its lines were', async () => {
    const { msgs, handle } = collect();
    const exit = 'CPU 0/KVM-9 [000] 0.5: kvm_exit: reason HLT rip 0x1 info 0 0\n';
    handle({
      type: 'run',
      id: 8,
      script: exit + exit + 'CPU 0/KVM-9 [000] 0.6: kvm_entry: vcpu 0\n',
    });
    const fin = await finished(msgs);
    expect(fin.eventCount).toBe(0);
    expect(msgs.find((m) => m.type === 'parseErrors')).toMatchObject({
      errors: [
        {
          line: 1,
          col: 1,
          message:
            'no TDP MMU event (kvm_tdp_mmu_spte_changed, kvm_mmu_set_spte, …) in this trace; its lines: kvm_exit ×2, kvm_entry ×1',
        },
      ],
    });
  });

  it("keeps a wrapped record's joined text", async () => {
    const text =
      'CPU 0/KVM-7 [000] 1.5: kvm_tdp_mmu_spte_changed: as id 0 gfn 100 level 4 old_spte 0\n new_spte 10001907\n';
    const { msgs, handle } = collect();
    handle({ type: 'run', id: 1, script: text });
    const spans = new Spans((await finished(msgs)).spans, text);
    expect(spans.at(0)?.trace?.text).toBe(
      'CPU 0/KVM-7 [000] 1.5: kvm_tdp_mmu_spte_changed: as id 0 gfn 100 level 4 old_spte 0 new_spte 10001907',
    );
    expect(spans.at(0)?.trace?.ts).toBe('1.5');
  });

  it('Stop while reading rebuilds the lines read so far, and says where it stopped', async () => {
    const text = big();
    const { msgs, handle } = collect();
    handle({ type: 'run', id: 2, script: text });
    // The first slice ran inside handle(); Stop is heard before the second.
    handle({ type: 'stop', id: 3, target: 2 });
    const fin = await finished(msgs);
    const total = text.split('\n').length - 1;
    const done = fin.stopped?.done ?? 0;
    expect(fin.stopped?.total).toBe(total);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(total);
    // Exactly the rebuild of the lines read, left as the trace was when it was cut.
    const head = text.split('\n').slice(0, done).join('\n');
    const read = readTrace(head);
    const r = new TraceRebuild(read, levelsOf(read), kernelOf(read));
    for (const rec of read.records) r.add(rec);
    expect(fin.eventCount).toBe(r.kvm.log.length);
    expect(wordsOf(msgs)).toEqual(r.kvm.log.slice(0, r.kvm.log.length));
    expect(fin.spans.line.at(-1)).toBeLessThanOrEqual(done);
  }, 60_000);

  it('Stop while rebuilding ends the run at the record reached', async () => {
    const text = big();
    const msgs: WorkerMessage[] = [];
    // Stop arrives right after the first slice of the rebuild, as a click would between slices.
    const handle = createHandler((m) => {
      msgs.push(m);
      if (m.type === 'progress' && m.phase === 'rebuilding' && m.done < m.total)
        handle({ type: 'stop', id: 5, target: 4 });
    });
    handle({ type: 'run', id: 4, script: text });
    const fin = await finished(msgs);
    const full = TraceRebuild.of(readTrace(text)).kvm.log.length;
    expect(fin.eventCount).toBeLessThan(full);
    expect(fin.eventCount).toBe(wordsOf(msgs).length / WORDS);
    const spans = new Spans(fin.spans, text);
    // The last record rebuilt is where it says it stopped, and its events end the log.
    expect(spans.line(spans.length - 1)).toBe(fin.stopped?.done);
    expect(spans.end(spans.length - 1)).toBe(fin.eventCount);
  }, 60_000);
});
