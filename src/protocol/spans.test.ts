import { describe, expect, it } from 'vitest';
import { lowerBound, PiecedText, spanBuffers, spanTable, Spans } from './spans.ts';

// Three statements: lines 1, 2 (no events: an expect), 4; events [0, 5) [5, 5) [5, 9).
const rows = [
  { line: 1, kind: 'memslot', firstEvent: 0, endEvent: 5 },
  { line: 2, kind: 'expect', firstEvent: 5, endEvent: 5 },
  { line: 4, kind: 'access', firstEvent: 5, endEvent: 9 },
];

describe('span columns', () => {
  it('round-trip a script run: the same spans, kinds named once', () => {
    const t = spanTable(rows);
    expect(t.kinds).toEqual(['memslot', 'expect', 'access']);
    const spans = new Spans(t, '');
    expect([...spans]).toEqual(rows);
    expect(spans.isTrace).toBe(false);
    expect(spanBuffers(t)).toHaveLength(4);
  });

  it('find the span of an event, of a start, of a line, and the operation stops', () => {
    const s = new Spans(spanTable(rows), '');
    expect([0, 4, 5, 8, 9].map((e) => s.containing(e))).toEqual([0, 0, 2, 2, -1]);
    // Event 5 starts both the empty expect and the access: the first of them.
    expect([0, 5, 3].map((e) => s.startingAt(e))).toEqual([0, 1, -1]);
    expect([1, 2, 3, 4].map((l) => s.onLine(l))).toEqual([0, 1, -1, 2]);
    // Shift+→ from 0 goes to the end of the memslot, from 5 to the end of the access.
    expect([0, 4, 5, 9].map((e) => s.nextEndingAfter(e))).toEqual([0, 0, 2, -1]);
    // Shift+← skips the empty expect.
    expect([0, 3, 5, 6, 9].map((e) => s.prevStartBefore(e))).toEqual([-1, 0, 0, 2, 2]);
    // The same object for the same span, so a selector returning it is stable.
    expect(s.at(2)).toBe(s.at(2));
    expect(s.at(3)).toBeNull();
  });

  it('lowerBound finds the first key not below x', () => {
    const keys = [1, 3, 3, 7];
    expect([0, 1, 2, 3, 4, 8].map((x) => lowerBound(keys.length, (i) => keys[i] ?? 0, x))).toEqual([
      0, 0, 1, 1, 3, 4,
    ]);
  });
});

describe('PiecedText', () => {
  const whole = 'ab\r\ncdé\nfgh\rij\n';
  const pieces = ['ab\r', '\ncd', 'é\nfgh\r', 'ij\n'];
  const t = new PiecedText(pieces);

  it('reads like the joined string: every slice and every character', () => {
    expect(t.length).toBe(whole.length);
    for (let a = 0; a <= whole.length; a++) {
      expect(t.charCodeAt(a)).toEqual(whole.charCodeAt(a));
      for (let b = a; b <= whole.length; b++) expect(t.slice(a, b)).toBe(whole.slice(a, b));
    }
  });

  it('gives a trace its lines without joining the pieces', () => {
    const table = spanTable([{ line: 2, kind: 'x', firstEvent: 0, endEvent: 1 }], {
      levels: 4,
      kernel: '5.18',
      task: new Int32Array([-1]),
      tasks: [],
      byTask: new Int32Array(0),
      taskStarts: new Int32Array([0]),
      cpu: new Int16Array([-1]),
      lineStarts: new Uint32Array([0, 4, 8, 12, 15]),
      joined: [],
      notes: [],
    });
    const s = new Spans(table, t);
    expect([1, 2, 3, 4].map((l) => s.traceLine(l))).toEqual(['ab', 'cdé', 'fgh', 'ij']);
    expect(s.traceLines).toBe(4);
    expect(s.at(0)?.trace?.text).toBe('cdé');
  });
});
