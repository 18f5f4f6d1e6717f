import { describe, expect, it } from 'vitest';
import { spanTable, Spans, type TraceColumns } from '../protocol/spans.ts';
import { binOf, lanesOf, lastBefore, markersOf, MARKER_BINS } from './span-marks.ts';

/** n trace records of 3 events each, alternating between two tasks in runs of `run`. */
function trace(n: number, run: number): Spans {
  const rows = Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    kind: 'kvm_tdp_mmu_spte_changed',
    firstEvent: 1 + 3 * i,
    endEvent: 4 + 3 * i,
  }));
  const task = Int32Array.from(rows, (_, i) => Math.floor(i / run) % 2);
  const byTask = Int32Array.from([
    ...rows.flatMap((_, i) => (task[i] === 0 ? [i] : [])),
    ...rows.flatMap((_, i) => (task[i] === 1 ? [i] : [])),
  ]);
  const zeros = task.filter((t) => t === 0).length;
  const cols: TraceColumns = {
    levels: 4,
    kernel: '5.18',
    task,
    tasks: ['CPU 0/KVM-1', 'CPU 1/KVM-2'],
    byTask,
    taskStarts: Int32Array.from([0, zeros, n]),
    cpu: new Int16Array(n),
    lineStarts: new Uint32Array(0),
    joined: [],
    notes: [],
  };
  return new Spans(spanTable(rows, cols), '');
}

describe('scrubber markers', () => {
  it('one per operation while there are few, each titled by its line', () => {
    const spans = new Spans(
      spanTable([
        { line: 1, kind: 'memslot', firstEvent: 0, endEvent: 500 },
        { line: 2, kind: 'expect', firstEvent: 500, endEvent: 500 },
        { line: 3, kind: 'access', firstEvent: 500, endEvent: 1000 },
      ]),
      '',
    );
    expect(markersOf(spans, 1000)).toEqual([
      { bin: 0, first: 0, title: 'line 1: memslot' },
      { bin: 200, first: 500, title: 'line 3: access' },
    ]);
  });

  it('a million records: at most one per bin, counted, and the active one is findable', () => {
    const spans = trace(1_000_000, 1000);
    const count = 1 + 3 * 1_000_000;
    const marks = markersOf(spans, count);
    expect(marks).toHaveLength(MARKER_BINS);
    expect(new Set(marks.map((m) => m.bin)).size).toBe(MARKER_BINS);
    // 2,500 records per bin; bin 0 starts with the record on line 2.
    expect(marks[0]?.title).toBe('lines 2–2501: 2,500 records');
    const active = spans.at(spans.containing(1_500_000));
    expect(marks.some((m) => m.bin === binOf(active?.firstEvent ?? -1, count))).toBe(true);
  });
});

describe('trace lanes', () => {
  it('per task: where its records are, and its last record before the cursor', () => {
    const spans = trace(8, 2);
    const lanes = lanesOf(spans, 25);
    expect(lanes.map((l) => l.task)).toEqual(['CPU 0/KVM-1', 'CPU 1/KVM-2']);
    expect(Array.from(lanes[0]?.spans ?? [])).toEqual([0, 1, 4, 5]);
    // 25 events, a bucket per event: task 0 holds events [1, 7) and [13, 19).
    expect(lanes[0]?.runs).toEqual([
      { from: 1, to: 7 },
      { from: 13, to: 19 },
    ]);
    expect(lanes[1]?.runs).toEqual([
      { from: 7, to: 13 },
      { from: 19, to: 25 },
    ]);
    const lane = lanes[1];
    if (!lane) throw new Error('no lane');
    expect(lastBefore(lane, spans, 7)).toBeNull();
    expect(lastBefore(lane, spans, 11)?.line).toBe(5);
    expect(lastBefore(lane, spans, 25)?.line).toBe(9);
  });
});
