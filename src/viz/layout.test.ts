import { describe, expect, it } from 'vitest';
import {
  BOX_H,
  BOX_W,
  CELL,
  computeLayout,
  entryRect,
  HEADER_H,
  hitTest,
  type LayoutTable,
  type Rect,
  wrapColumns,
} from './layout.ts';

const table = (
  id: number,
  parent: number | null,
  parentIndex: number,
  level: number,
  rootId: number,
): LayoutTable => ({ id, parent, parentIndex, level, gfn: id * 0x1000, rootId });

// Root 0 (L4) -> 1 (L3, index 0) -> 2 (L2, index 5) and 3 (L2, index 2); 3 -> 4 (L1, index 7).
// Root 5 (L4) -> 6 (L3, index 1).
const TABLES: LayoutTable[] = [
  table(0, null, 0, 4, 0),
  table(1, 0, 0, 3, 0),
  table(2, 1, 5, 2, 0),
  table(3, 1, 2, 2, 0),
  table(4, 3, 7, 1, 0),
  table(5, null, 0, 4, 5),
  table(6, 5, 1, 3, 5),
];

const box = (boxes: Map<number, Rect>, id: number): Rect => {
  const b = boxes.get(id);
  if (!b) throw new Error(`no box for table ${id}`);
  return b;
};
const overlap = (a: Rect, b: Rect): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('computeLayout', () => {
  it('places every child below its parent', () => {
    const { boxes } = computeLayout(TABLES, new Set());
    for (const t of TABLES) {
      if (t.parent === null) continue;
      expect(box(boxes, t.id).y).toBeGreaterThanOrEqual(box(boxes, t.parent).y + BOX_H);
    }
  });

  it('orders siblings left to right by parent index, then by id', () => {
    const { boxes } = computeLayout(
      [...TABLES, table(7, 1, 2, 2, 0)], // a second table under entry 2 of table 1
      new Set(),
    );
    const xs = [3, 7, 2].map((id) => box(boxes, id).x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(xs).size).toBe(3);
  });

  it('sets two roots side by side, newest leftmost, with no boxes overlapping', () => {
    const { boxes } = computeLayout(TABLES, new Set());
    expect(box(boxes, 5).x).toBeLessThan(box(boxes, 0).x);
    expect(box(boxes, 5).y).toBe(box(boxes, 0).y);
    const all = [...boxes.values()];
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++) expect(overlap(all[i]!, all[j]!)).toBe(false);
  });

  it('hides the descendants of a collapsed table and counts them', () => {
    const layout = computeLayout(TABLES, new Set([1]));
    expect([...layout.boxes.keys()].sort()).toEqual([0, 1, 5, 6]);
    expect(layout.hidden.get(1)).toBe(3);
    expect(layout.childCount.get(1)).toBe(2);
  });

  it('gives the same positions for the same input, in any order', () => {
    const a = computeLayout(TABLES, new Set([3]));
    const b = computeLayout([...TABLES].reverse(), new Set([3]));
    expect([...b.boxes].sort((x, y) => x[0] - y[0])).toEqual(
      [...a.boxes].sort((x, y) => x[0] - y[0]),
    );
    expect(b.bounds).toEqual(a.bounds);
  });

  it('bounds contain every box', () => {
    const { boxes, bounds } = computeLayout(TABLES, new Set());
    for (const b of boxes.values()) {
      expect(b.x).toBeGreaterThanOrEqual(bounds.x);
      expect(b.y).toBeGreaterThanOrEqual(bounds.y);
      expect(b.x + b.w).toBeLessThanOrEqual(bounds.x + bounds.w);
      expect(b.y + b.h).toBeLessThanOrEqual(bounds.y + bounds.h);
    }
  });

  it('wraps a wide family of childless tables into rows, in order, below the parent', () => {
    const family = Array.from({ length: 100 }, (_, i) => table(i + 1, 0, i * 5, 3, 0));
    const { boxes, bounds } = computeLayout([table(0, null, 0, 4, 0), ...family], new Set());
    const parent = box(boxes, 0);
    const placed = family.map((t) => box(boxes, t.id));
    for (const b of placed) expect(b.y).toBeGreaterThanOrEqual(parent.y + BOX_H);
    const cols = wrapColumns(100);
    expect(cols).toBeLessThan(100);
    placed.forEach((b, i) => {
      const next = placed[i + 1];
      if (!next) return;
      if ((i + 1) % cols === 0) expect(next.y).toBeGreaterThan(b.y);
      else expect([next.y, next.x > b.x]).toEqual([b.y, true]);
    });
    expect(bounds.w).toBeLessThan(cols * 2 * BOX_W);
  });

  it('keeps every box clear of every other in a large mixed tree', () => {
    // A deterministic pseudo-random tree: families wide and narrow, some with grandchildren.
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const tables: LayoutTable[] = [table(0, null, 0, 4, 0), table(1, null, 0, 4, 1)];
    for (let id = 2; id < 400; id++) {
      const parent = tables[rand(tables.length)]!;
      if (parent.level === 1) continue;
      tables.push(table(id, parent.id, rand(512), parent.level - 1, parent.rootId));
    }
    for (const collapsed of [new Set<number>(), new Set([tables[5]!.id])]) {
      const { boxes } = computeLayout(tables, collapsed);
      const all = [...boxes.values()].sort((a, b) => a.x - b.x);
      for (let i = 0; i < all.length; i++)
        for (let j = i + 1; j < all.length && all[j]!.x < all[i]!.x + all[i]!.w; j++)
          expect(overlap(all[i]!, all[j]!)).toBe(false);
      for (const t of tables) {
        const b = boxes.get(t.id);
        const p = t.parent === null ? undefined : boxes.get(t.parent);
        if (b && p) expect(b.y).toBeGreaterThan(p.y);
      }
    }
  });

  it('lays out nothing for no tables', () => {
    const layout = computeLayout([], new Set());
    expect(layout.boxes.size).toBe(0);
    expect(layout.bounds).toEqual({ x: 0, y: 0, w: 0, h: 0 });
  });
});

describe('hitTest', () => {
  const layout = computeLayout(TABLES, new Set());
  const centre = (r: Rect) => [r.x + r.w / 2, r.y + r.h / 2] as const;

  it('finds entry 0 in the top-left cell and entry 511 in the bottom-right cell', () => {
    const b = box(layout.boxes, 4);
    expect(hitTest(layout, ...centre(entryRect(b, 0)))).toEqual({ sp: 4, index: 0 });
    expect(hitTest(layout, ...centre(entryRect(b, 511)))).toEqual({ sp: 4, index: 511 });
    expect(entryRect(b, 511).y - entryRect(b, 0).y).toBe(15 * CELL);
  });

  it('finds entry 33 one row down and one column right of entry 0', () => {
    const b = box(layout.boxes, 2);
    const r0 = entryRect(b, 0);
    expect(hitTest(layout, r0.x + CELL * 1.5, r0.y + CELL * 1.5)).toEqual({ sp: 2, index: 33 });
  });

  it('reports the header with a null index', () => {
    const b = box(layout.boxes, 6);
    expect(hitTest(layout, b.x + b.w / 2, b.y + HEADER_H / 2)).toEqual({ sp: 6, index: null });
  });

  it('finds nothing in empty space', () => {
    const { bounds } = layout;
    expect(hitTest(layout, bounds.x - 10, bounds.y - 10)).toBeNull();
    const b = box(layout.boxes, 0);
    expect(hitTest(layout, b.x + b.w / 2, b.y + b.h + 5)).toBeNull();
  });
});
