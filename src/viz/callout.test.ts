import { describe, expect, it } from 'vitest';
import { placeCallout } from './callout.ts';

const VIEW = { w: 800, h: 600 };
const SIZE = { w: 300, h: 60 };

describe('where the callout goes', () => {
  it('to the right of the entry when it fits, level with it, the leader at its left edge', () => {
    // A 4 px cell at (100, 200): the ring is at least 18 px, plus an 18 px gap.
    const b = placeCallout({ x: 100, y: 200, w: 4, h: 4 }, SIZE, VIEW);
    expect(b.x).toBe(102 + 9 + 18);
    expect(b.y).toBe(202 - 30);
    expect([b.ax, b.ay]).toEqual([b.x, 202]);
  });

  it('to the left near the right edge, and kept on screen near the top', () => {
    const b = placeCallout({ x: 700, y: 2, w: 4, h: 4 }, SIZE, VIEW);
    expect(b.x + b.w).toBe(702 - 9 - 18);
    expect(b.y).toBe(4);
  });

  it('below the entry when neither side has room', () => {
    const b = placeCallout({ x: 398, y: 100, w: 4, h: 4 }, { w: 500, h: 60 }, VIEW);
    expect(b.y).toBe(102 + 9 + 18);
    expect(b.x).toBe(400 - 250);
  });
});
