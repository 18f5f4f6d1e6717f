// What any view draws over its base picture to answer "what changed": entry flashes, table
// pulses, the iterator's trail and ring, TLB flush spans, the selection. Animations are data in
// world terms ({sp, index}, {sp}); a view supplies where those are, so every view gets them.
import type { Rect } from './layout.ts';
import type { Palette } from './palette.ts';

interface AnimBase {
  /** Set from the first frame after queuing, so a queue-to-draw delay never eats the animation. */
  start: number;
  dur: number;
}
export type Anim = AnimBase &
  (
    | { kind: 'flash'; sp: number; index: number; from: string }
    | { kind: 'grow'; sp: number }
    | { kind: 'fade'; sp: number; from: number; to: number }
    | { kind: 'pulse'; sp: number; color: 'accent' | 'error'; edge: boolean }
    | { kind: 'cursor'; from: number }
    | { kind: 'trail'; sp: number; index: number }
    | { kind: 'tlb'; spans: { sp: number; first: number; last: number }[] }
    | { kind: 'tlbFull' }
    /** A cmpxchg that found another value: the entry shakes. */
    | { kind: 'bounce'; sp: number; index: number }
  );

type WithoutStart<A> = A extends unknown ? Omit<A, 'start'> : never;
export type NewAnim = WithoutStart<Anim>;

export const NO_CELL = -1;
export const cellKey = (sp: number, index: number): number => sp * 512 + index;
const keySp = (key: number): number => Math.floor(key / 512);
const keyIndex = (key: number): number => key % 512;

export const easeOut = (t: number): number => 1 - (1 - t) ** 3;
const clamp01 = (t: number): number => Math.min(1, Math.max(0, t));
const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

export function progress(a: Anim, now: number): number {
  return clamp01((now - a.start) / a.dur);
}

/** Where a view draws things, in its world coordinates. */
export interface OverlayGeometry {
  /** The rectangle of a table on the picture this frame (null: not shown). */
  table(sp: number): Rect | null;
  /** The rectangle of one entry (null: not shown). */
  cell(sp: number, index: number): Rect | null;
  /** Entries first..last of a table, as few rectangles as the view can draw them with. */
  runs(sp: number, first: number, last: number): Rect[];
  /** What part of the world is on screen. */
  view: Rect;
}

/**
 * A reading of the mirror drawn on the canvas (the tree today; an address-space view next):
 * it paints its scene under the camera and says where tables and entries landed, so the
 * overlays and the callout work on every view alike.
 */
export interface PictureView<Scene> {
  setPalette(palette: Palette): void;
  paint(scene: Scene, view: Rect, k: number, now: number): OverlayGeometry;
}

export interface OverlayState {
  anims: readonly Anim[];
  /** The iterator's cell (cellKey), or NO_CELL. */
  iter: number;
  /** In a race: each actor's cell (cellKey or NO_CELL), by actor index. */
  actors?: readonly number[];
  selection: { sp: number; index: number | null } | null;
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;
}

export function lerpRect(a: Rect, b: Rect, t: number): Rect {
  return { x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t), w: lerp(a.w, b.w, t), h: lerp(a.h, b.h, t) };
}

export function ringAround(
  ctx: CanvasRenderingContext2D,
  r: Rect,
  gap: number,
  color: string,
  width: number,
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  const o = gap + width / 2;
  ctx.strokeRect(r.x - o, r.y - o, r.w + 2 * o, r.h + 2 * o);
}

/** Draw the overlays at zoom k (world units; the context carries the camera). */
export function drawOverlays(
  ctx: CanvasRenderingContext2D,
  at: OverlayGeometry,
  state: OverlayState,
  p: Palette,
  k: number,
  now: number,
): void {
  const px = 1 / k;
  const { view } = at;
  for (const a of state.anims) {
    const t = progress(a, now);
    switch (a.kind) {
      case 'tlb': {
        ctx.globalAlpha = 0.45 * (1 - t);
        ctx.fillStyle = p.accent;
        for (const s of a.spans) {
          const r = at.table(s.sp);
          if (!r || !intersects(r, view)) continue;
          for (const run of at.runs(s.sp, s.first, s.last))
            ctx.fillRect(run.x, run.y, run.w, run.h);
        }
        break;
      }
      case 'trail': {
        const c = at.cell(a.sp, a.index);
        if (!c || !intersects(c, view)) break;
        ctx.globalAlpha = 0.5 * (1 - t);
        ctx.fillStyle = p.accent;
        ctx.fillRect(c.x, c.y, c.w, c.h);
        break;
      }
      case 'flash': {
        const c = at.cell(a.sp, a.index);
        if (!c || !intersects(c, view)) break;
        const e = easeOut(t);
        ctx.globalAlpha = 1 - e;
        ctx.fillStyle = a.from;
        ctx.fillRect(c.x, c.y, c.w, c.h);
        ringAround(ctx, c, (2 + 6 * e) * px, p.fg, 2 * px);
        break;
      }
      case 'bounce': {
        const c = at.cell(a.sp, a.index);
        if (!c || !intersects(c, view)) break;
        // Three decaying shakes sideways, in the error colour.
        const dx = Math.sin(t * Math.PI * 6) * (1 - t) * Math.max(c.w, 8 * px) * 0.6;
        const ring = Math.max(c.w, 12 * px);
        const r = {
          x: c.x + c.w / 2 - ring / 2 + dx,
          y: c.y + c.h / 2 - ring / 2,
          w: ring,
          h: ring,
        };
        ringAround(ctx, r, 2 * px, p.error, 3 * px);
        break;
      }
      case 'pulse': {
        const r = at.table(a.sp);
        if (!r || !intersects(r, view)) break;
        ctx.globalAlpha = 1 - t;
        const grow = (2 + 8 * easeOut(t)) * px;
        ringAround(ctx, r, grow, a.color === 'error' ? p.error : p.accent, 3 * px);
        break;
      }
      default:
        break;
    }
  }
  ctx.globalAlpha = 1;

  // The iterator: a ring on the cell it last visited, gliding there from its previous cell.
  if (state.iter !== NO_CELL) {
    const to = at.cell(keySp(state.iter), keyIndex(state.iter));
    if (to) {
      let c = to;
      const cursor = state.anims.find((a) => a.kind === 'cursor');
      if (cursor && cursor.kind === 'cursor' && cursor.from !== NO_CELL) {
        const from = at.cell(keySp(cursor.from), keyIndex(cursor.from));
        if (from) c = lerpRect(from, to, easeOut(progress(cursor, now)));
      }
      const ring = Math.max(c.w, 10 * px);
      const r = { x: c.x + c.w / 2 - ring / 2, y: c.y + c.h / 2 - ring / 2, w: ring, h: ring };
      ringAround(ctx, r, 1.5 * px, p.accent, 2.5 * px);
    }
  }

  // A race's actors: a ring in each one's colour on the entry it last touched, with its number.
  state.actors?.forEach((key, a) => {
    if (key === NO_CELL) return;
    const c = at.cell(keySp(key), keyIndex(key));
    if (!c || !intersects(c, view)) return;
    const color = p.actors[a % p.actors.length] ?? p.accent;
    const ring = Math.max(c.w, 14 * px) + a * 5 * px;
    const r = { x: c.x + c.w / 2 - ring / 2, y: c.y + c.h / 2 - ring / 2, w: ring, h: ring };
    ringAround(ctx, r, 1.5 * px, color, 3 * px);
    const size = 13 * px;
    ctx.font = `bold ${size}px ${p.font}`;
    ctx.textBaseline = 'bottom';
    const label = String(a);
    const w = ctx.measureText(label).width + 6 * px;
    const x = r.x + r.w + 2 * px;
    const y = r.y - 2 * px;
    ctx.fillStyle = color;
    ctx.fillRect(x, y - size - 2 * px, w, size + 4 * px);
    ctx.fillStyle = p.panel;
    ctx.fillText(label, x + 3 * px, y + 1 * px);
  });

  const sel = state.selection;
  if (sel) {
    const r = sel.index === null ? at.table(sel.sp) : at.cell(sel.sp, sel.index);
    if (r) {
      ringAround(ctx, r, 1 * px, p.panel, 4 * px);
      ringAround(ctx, r, 1 * px, p.fg, 2 * px);
    }
  }
}
