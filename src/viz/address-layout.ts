// The geometry of the address-space view: x is the GFN, on an axis where long empty stretches
// are collapsed to a fixed width (with how much they skip), and y is the level, root on top.
// Pure, so the axis and the hit test are unit-tested in Node.
import { hex } from '../sim/geometry.ts';

/** One piece of the axis: GFNs [g0, g1) drawn over world x [x0, x1). */
export interface AxisSegment {
  g0: number;
  g1: number;
  x0: number;
  x1: number;
  /** A collapsed stretch with nothing of interest in it. */
  skipped: boolean;
}

/** World units per GFN in the largest range shown; smaller ranges may be drawn wider. */
export const UNIT = 1;
/** No range is drawn narrower than this share of the largest, so a 6M slot beside a 1G one shows. */
const MIN_RANGE_SHARE = 0.3;
/** A collapsed stretch is drawn this wide, as a share of the width shown to scale (at least 8). */
const GAP_SHARE = 0.06;
const MIN_GAP = 8;

export class GfnAxis {
  readonly width: number;

  constructor(readonly segments: readonly AxisSegment[]) {
    this.width = segments[segments.length - 1]?.x1 ?? 0;
  }

  /** World x of a GFN (clamped to the axis). */
  x(gfn: number): number {
    const s = this.segmentOf(gfn, (seg) => seg.g1);
    if (s === undefined || gfn <= 0) return 0;
    if (gfn >= s.g1) return this.width;
    const t = s.g1 === s.g0 ? 0 : (gfn - s.g0) / (s.g1 - s.g0);
    return s.x0 + t * (s.x1 - s.x0);
  }

  /**
   * World units per GFN where [g0, g1) is drawn widest (UNIT in the largest range, more in a
   * small one widened); 0 when all of it is cut.
   */
  scaleIn(g0: number, g1: number): number {
    let best = 0;
    for (const s of this.segments) {
      if (s.skipped || s.g1 <= g0 || s.g0 >= g1) continue;
      best = Math.max(best, (s.x1 - s.x0) / (s.g1 - s.g0));
    }
    return best;
  }

  /** The GFN at world x (the inverse of x()). */
  gfnAt(x: number): number {
    const s = this.segmentOf(x, (seg) => seg.x1);
    if (s === undefined || x <= 0) return 0;
    if (x >= s.x1) return s.g1;
    const t = s.x1 === s.x0 ? 0 : (x - s.x0) / (s.x1 - s.x0);
    return s.g0 + t * (s.g1 - s.g0);
  }

  /** The first segment whose end (by `end`) lies beyond `v`. */
  private segmentOf(v: number, end: (s: AxisSegment) => number): AxisSegment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segments[mid];
      if (s !== undefined && end(s) <= v) lo = mid + 1;
      else hi = mid;
    }
    return this.segments[lo];
  }
}

/**
 * The axis over GFNs [0, maxGfn) showing `interest` (half-open GFN ranges, any order), each to
 * scale within itself and at least a share of the largest wide, and collapsing each stretch
 * between them that would be wider than a gap.
 */
export function buildAxis(
  interest: readonly (readonly [number, number])[],
  maxGfn: number,
): GfnAxis {
  const merged = mergeRanges(
    interest
      .map(([a, b]) => [Math.max(0, a), Math.min(maxGfn, b)] as const)
      .filter(([a, b]) => b > a),
  );
  const largest = merged.reduce((n, [a, b]) => Math.max(n, b - a), 0);
  const widthOf = (len: number): number => Math.max(len, largest * MIN_RANGE_SHARE) * UNIT;
  const shown = merged.reduce((n, [a, b]) => n + widthOf(b - a), 0);
  const gap = Math.max(MIN_GAP, shown * GAP_SHARE);
  const segments: AxisSegment[] = [];
  let x = 0;
  let g = 0;
  /** Up to g1: a cut `gap` wide, or `w` wide. */
  const stretch = (g1: number, skipped: boolean, w: number): void => {
    if (g1 <= g) return;
    segments.push({ g0: g, g1, x0: x, x1: x + w, skipped });
    x += w;
    g = g1;
  };
  // A short stretch between two ranges is shown to scale: collapsing it would hide nothing.
  const between = (g1: number): void => {
    const linear = (g1 - g) * UNIT;
    stretch(g1, linear > gap, linear > gap ? gap : linear);
  };
  for (const [a, b] of merged) {
    between(a);
    stretch(b, false, widthOf(b - a));
  }
  between(maxGfn);
  if (segments.length === 0) segments.push({ g0: 0, g1: maxGfn, x0: 0, x1: gap, skipped: true });
  return new GfnAxis(segments);
}

export function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((p, q) => p[0] - q[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** GFNs one entry of a table at `level` maps: 512^(level-1). */
export function entrySpan(level: number): number {
  return 512 ** (level - 1);
}

/** The 1-D camera: screen x = (worldX - x) * k; y is not zoomed (rows keep their height). */
export interface AxisView {
  x: number;
  k: number;
}

export interface Rows {
  top: number;
  height: number;
  levels: number;
}

/** Row of `level`: the root level at the top. */
export function rowTop(rows: Rows, level: number): number {
  return rows.top + (rows.levels - level) * rows.height;
}

/** The level under screen y, or null outside the rows. */
export function levelAt(rows: Rows, y: number): number | null {
  const r = Math.floor((y - rows.top) / rows.height);
  return r < 0 || r >= rows.levels ? null : rows.levels - r;
}

/** Bytes of `gfns` pages as a short size: 4K, 2M, 508G, 255.5T. */
export function pagesSize(gfns: number): string {
  const bytes = gfns * 4096;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
  return `${text.replace(/\.0$/, '')}${units[u] ?? ''}`;
}

/** What a table of the picture is, as far as the axis cares. */
export interface AxisTable {
  gfn: number;
  level: number;
  spt: Uint32Array;
}

/**
 * The GFN ranges shown to scale: memslots, every last-level table (so each 4K SPTE can be
 * zoomed to) and every present SPTE of a higher table that is not a link to a table.
 */
export function interestRanges(
  tables: readonly AxisTable[],
  memslots: readonly { baseGfn: number; npages: number }[],
  isLinkOrEmpty: (lo: number, hi: number, level: number) => boolean,
): [number, number][] {
  const out: [number, number][] = memslots.map((m) => [m.baseGfn, m.baseGfn + m.npages]);
  for (const t of tables) {
    const span = entrySpan(t.level);
    if (t.level === 1) {
      out.push([t.gfn, t.gfn + 512]);
      continue;
    }
    for (let i = 0; i < 512; i++) {
      const lo = t.spt[2 * i] ?? 0;
      const hi = t.spt[2 * i + 1] ?? 0;
      if (!isLinkOrEmpty(lo, hi, t.level)) out.push([t.gfn + i * span, t.gfn + (i + 1) * span]);
    }
  }
  return out;
}

/** An operation's begin event, as far as its GFN range goes. */
export interface OpBeginLike {
  op: string;
  a: number;
  b: number;
  c: number;
}

/** What the address view draws for an operation: the GFNs it covers, and how far down. */
export type OpCover =
  | { kind: 'range'; label: string; start: number; end: number }
  | { kind: 'column'; label: string; start: number; end: number; downTo: number };

/**
 * The cover of one operation: zap_gfn_range its [start, end) over every row; zap_sp the column
 * of entries from the root down to the sp; a fault or shatter the page it is about.
 */
export function opCover(
  op: OpBeginLike,
  spOf: (id: number) => { gfn: number; level: number } | undefined,
): OpCover | null {
  switch (op.op) {
    case 'zap_gfn_range':
      return {
        kind: 'range',
        label: `zap_gfn_range [${hex(op.a)}, ${hex(op.b)})`,
        start: op.a,
        end: op.b,
      };
    case 'zap_sp': {
      const sp = spOf(op.b);
      if (!sp) return null;
      const end = sp.gfn + 512 * entrySpan(sp.level);
      return { kind: 'column', label: `zap_sp sp ${op.b}`, start: sp.gfn, end, downTo: sp.level };
    }
    case 'access':
    case 'fault':
      return {
        kind: 'column',
        label: `${op.op} gfn ${hex(op.a)}`,
        start: op.a,
        end: op.a + 1,
        downTo: 1,
      };
    case 'shatter': {
      const span = entrySpan(op.c);
      const start = op.a - (op.a % span);
      return {
        kind: 'column',
        label: `shatter gfn ${hex(start)}`,
        start,
        end: start + span,
        downTo: op.c - 1,
      };
    }
    default:
      return null;
  }
}
