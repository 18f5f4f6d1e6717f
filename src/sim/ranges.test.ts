import { describe, expect, it } from 'vitest';
import { SortedRanges } from './ranges.ts';

describe('sorted ranges (memslot lookup)', () => {
  const make = () => {
    const r = new SortedRanges<{ s: number; e: number }>(
      (x) => x.s,
      (x) => x.e,
    );
    for (const [s, e] of [
      [100, 200],
      [0, 10],
      [300, 301],
    ] as const)
      r.insert({ s, e });
    return r;
  };

  it('finds the range holding a value, half-open', () => {
    const r = make();
    expect(r.find(0)?.s).toBe(0);
    expect(r.find(9)?.s).toBe(0);
    expect(r.find(10)).toBeUndefined();
    expect(r.find(150)?.s).toBe(100);
    expect(r.find(300)?.s).toBe(300);
    expect(r.find(301)).toBeUndefined();
    expect(r.find(-1)).toBeUndefined();
  });

  it('finds an overlap on either side, and none for a range in a gap', () => {
    const r = make();
    expect(r.overlap(10, 100)).toBeUndefined();
    expect(r.overlap(5, 20)?.s).toBe(0);
    expect(r.overlap(50, 101)?.s).toBe(100);
    expect(r.overlap(199, 300)?.s).toBe(100);
    expect(r.overlap(200, 300)).toBeUndefined();
    expect(r.overlap(0, 1000)?.s).toBe(0);
  });

  it('keeps 20,000 slots inserted in reverse order sorted, each checked and then findable', () => {
    const r = new SortedRanges<number>(
      (x) => x,
      (x) => x + 1,
    );
    // From the top down, so every insert lands at the front.
    for (let i = 20_000; i > 0; i--) {
      expect(r.overlap(i * 2, i * 2 + 1)).toBeUndefined();
      r.insert(i * 2);
    }
    expect(r.find(40_000)).toBe(40_000);
    expect(r.find(40_001)).toBeUndefined();
  });
});
