import { describe, expect, it } from 'vitest';
import {
  buildAxis,
  entrySpan,
  interestRanges,
  levelAt,
  mergeRanges,
  opCover,
  pagesSize,
  rowTop,
} from './address-layout.ts';

const ROOT_SPAN = 512 ** 4;

describe('the GFN axis', () => {
  it('shows the ranges of interest to scale and collapses the stretches around them', () => {
    // A 6M memslot at 4 GiB: GFNs [0x100000, 0x100600).
    const axis = buildAxis([[0x100000, 0x100600]], ROOT_SPAN);
    expect(axis.segments.map((s) => [s.g0, s.g1, s.skipped])).toEqual([
      [0, 0x100000, true],
      [0x100000, 0x100600, false],
      [0x100600, ROOT_SPAN, true],
    ]);
    const gap = 0x600 * 0.06;
    expect(axis.x(0x100000)).toBeCloseTo(gap);
    expect(axis.x(0x100600)).toBeCloseTo(gap + 0x600);
    expect(axis.width).toBeCloseTo(2 * gap + 0x600);
    // One GFN is one unit inside the range; x and gfnAt are inverses there.
    expect(axis.x(0x100201) - axis.x(0x100200)).toBeCloseTo(1);
    expect(axis.gfnAt(axis.x(0x100234))).toBeCloseTo(0x100234);
    expect(axis.scaleIn(0, 0x100000)).toBe(0);
    expect(axis.scaleIn(0, ROOT_SPAN)).toBeCloseTo(1);
  });

  it('widens a small range to a share of the largest, to scale within itself', () => {
    // A 1G slot at 1 GiB and a 6M slot at 4 GiB: the 6M one is drawn 0.3 of the 1G one wide.
    const axis = buildAxis(
      [
        [0x40000, 0x80000],
        [0x100000, 0x100600],
      ],
      ROOT_SPAN,
    );
    const w = (a: number, b: number) => axis.x(b) - axis.x(a);
    expect(w(0x40000, 0x80000)).toBeCloseTo(0x40000);
    expect(w(0x100000, 0x100600)).toBeCloseTo(0x40000 * 0.3);
    expect(w(0x100000, 0x100200)).toBeCloseTo(w(0x100200, 0x100400));
    expect(axis.scaleIn(0x100000, 0x100600)).toBeCloseTo((0x40000 * 0.3) / 0x600);
  });

  it('keeps a short stretch between two ranges to scale and merges overlapping ranges', () => {
    const axis = buildAxis(
      [
        [100, 200],
        [150, 300],
        [302, 400],
      ],
      1000,
    );
    expect(axis.segments.map((s) => [s.g0, s.g1, s.skipped])).toEqual([
      [0, 100, true],
      [100, 300, false],
      [300, 302, false],
      [302, 400, false],
      [400, 1000, true],
    ]);
    expect(
      mergeRanges([
        [5, 9],
        [1, 3],
        [2, 6],
      ]),
    ).toEqual([[1, 9]]);
  });

  it('clamps outside the axis and survives an empty picture', () => {
    const axis = buildAxis([], 4096);
    expect(axis.segments).toHaveLength(1);
    expect(axis.x(-5)).toBe(0);
    expect(axis.x(10_000)).toBe(axis.width);
    expect(axis.gfnAt(axis.width + 1)).toBe(4096);
  });
});

describe('what the axis must show', () => {
  const LINK = 3;
  const LEAF = 1;
  const table = (level: number, gfn: number, entries: Record<number, number>) => {
    const spt = new Uint32Array(1024);
    for (const [i, lo] of Object.entries(entries)) spt[2 * Number(i)] = lo;
    return { gfn, level, spt };
  };
  it('takes memslots, every 4K table and the higher entries that map memory', () => {
    const ranges = interestRanges(
      [
        table(1, 0x100000, { 0: LEAF }),
        table(2, 0x100000, { 0: LINK, 1: LEAF }),
        table(4, 0, { 0: LINK }),
      ],
      [{ baseGfn: 0x200000, npages: 16 }],
      (lo) => lo !== LEAF,
    );
    // The L2 link and the root's link add nothing: the 4K table and the 2M leaf do.
    expect(ranges).toEqual([
      [0x200000, 0x200010],
      [0x100000, 0x100200],
      [0x100200, 0x100400],
    ]);
  });
});

describe('rows and covers', () => {
  it('puts the root level on top', () => {
    const rows = { top: 90, height: 100, levels: 4 };
    expect(rowTop(rows, 4)).toBe(90);
    expect(rowTop(rows, 1)).toBe(390);
    expect(levelAt(rows, 95)).toBe(4);
    expect(levelAt(rows, 489)).toBe(1);
    expect(levelAt(rows, 490)).toBeNull();
    expect(levelAt(rows, 80)).toBeNull();
  });

  it('covers zap_gfn_range as its range, zap_sp as the column down to the sp', () => {
    expect(
      opCover({ op: 'zap_gfn_range', a: 0x100000, b: 0x100200, c: 0 }, () => undefined),
    ).toEqual({
      kind: 'range',
      label: 'zap_gfn_range [0x100000, 0x100200)',
      start: 0x100000,
      end: 0x100200,
    });
    const sp = { gfn: 0x100000, level: 1 };
    expect(
      opCover({ op: 'zap_sp', a: 0x100000, b: 3, c: 1 }, (id) => (id === 3 ? sp : undefined)),
    ).toEqual({
      kind: 'column',
      label: 'zap_sp sp 3',
      start: 0x100000,
      end: 0x100200,
      downTo: 1,
    });
    // shatter level=2 at a GFN inside the 2M page: the whole page, down to the new 4K row.
    expect(opCover({ op: 'shatter', a: 0x100234, b: 0, c: 2 }, () => undefined)).toMatchObject({
      start: 0x100200,
      end: 0x100400,
      downTo: 1,
    });
    expect(opCover({ op: 'recover_nx', a: 0, b: 0, c: 0 }, () => undefined)).toBeNull();
    expect(entrySpan(3)).toBe(262144);
  });

  it('says sizes the way the kernel people do', () => {
    expect(pagesSize(1)).toBe('4K');
    expect(pagesSize(512)).toBe('2M');
    expect(pagesSize(0x100000)).toBe('4G');
    expect(pagesSize(ROOT_SPAN - 0x100600)).toBe('256T');
    expect(pagesSize(0x180)).toBe('1.5M');
  });
});
