import { describe, expect, it } from 'vitest';
import { centreOn, fitView, zoomAbout } from './PanZoom.ts';

const FIT = { margin: 24, top: 56, minK: 0.05, maxK: 1.5 };

describe('the camera math', () => {
  it('fits content to the view, hanging a short tree from the top, never above maxK', () => {
    // 1000 × 200 world units in an 800 × 600 view: width decides, k = (800 - 48) / 1000.
    const v = fitView({ x: 0, y: 0, w: 1000, h: 200 }, 800, 600, FIT);
    expect(v.k).toBeCloseTo(0.752, 6);
    expect(v.x).toBeCloseTo(400 - 500 * 0.752, 6);
    expect(v.y).toBe(56);
    // A single small table is not blown up beyond 1.5.
    expect(fitView({ x: 10, y: 10, w: 100, h: 80 }, 800, 600, FIT).k).toBe(1.5);
    // A tall tree is centred vertically instead: k from height, (600 - 56 - 24) / 2000.
    const tall = fitView({ x: 0, y: 0, w: 100, h: 2000 }, 800, 600, FIT);
    expect(tall.k).toBeCloseTo(0.26, 6);
    expect(tall.y).toBeCloseTo(300 - 1000 * 0.26, 6);
  });

  it('zooms about a screen point, which stays put, within the range', () => {
    const t = { x: 100, y: 50, k: 1 };
    const z = zoomAbout(t, 2, 300, 250, 0.05, 8);
    // The world point under (300, 250) was (200, 200); it is still under (300, 250).
    expect(z).toEqual({ x: -100, y: -150, k: 2 });
    expect(zoomAbout({ x: 0, y: 0, k: 6 }, 2, 0, 0, 0.05, 8).k).toBe(8);
  });

  it('centres a world point in the view', () => {
    expect(centreOn(100, 40, 2, 800, 600)).toEqual({ x: 200, y: 220, k: 2 });
  });
});
